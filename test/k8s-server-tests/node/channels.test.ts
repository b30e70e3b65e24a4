import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelText, rawExec as rawExecOn } from '../raw-exec.js';
import { busyboxPod, randomName, startTestCluster, type TestCluster } from './helpers.js';

let t: TestCluster;
let kc: k8s.KubeConfig;
let pod: string;
beforeAll(async () => {
  t = await startTestCluster();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(t.cluster.kubeconfigPath);
  pod = randomName('ws');
  await t.apply(busyboxPod(pod, 'sleep 600', { spec: { terminationGracePeriodSeconds: 0 } }));
  await t.waitFor('pods', pod, (o) => o?.status?.phase === 'Running');
});
afterAll(async () => {
  await t?.stop();
});

const rawExec = (protocols: string[], command: string[], input: Buffer[] = [], flags?: string) =>
  rawExecOn({ url: t.cluster.url, kc, namespace: t.namespace, pod }, protocols, command, input, flags);
const channel = channelText;

describe('remotecommand WebSocket channels', () => {
  it('v5 is chosen when offered: empty first frame, output, one status frame, close 1000, no 255 frames', async () => {
    const session = await rawExec(['v4.channel.k8s.io', 'v5.channel.k8s.io'], ['sh', '-c', 'echo out; echo err >&2; exit 2']);
    expect(session.protocol).toBe('v5.channel.k8s.io');
    expect([...session.frames[0]!]).toEqual([1]);
    expect(channel(session, 1)).toBe('out\n');
    expect(channel(session, 2)).toBe('err\n');
    const statuses = session.frames.filter((f) => f[0] === 3);
    expect(statuses).toHaveLength(1);
    expect(JSON.parse(statuses[0]!.subarray(1).toString())).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
    expect(session.frames.at(-1)![0]).toBe(3);
    expect(session.frames.some((f) => f[0] === 255)).toBe(false);
    expect(session.closeCode).toBe(1000);
  });

  it('v5 CLOSE frame [255, 0] delivers EOF on stdin', async () => {
    const session = await rawExec(['v5.channel.k8s.io'], ['sh', '-c', 'wc -c'], [Buffer.from([0, ...Buffer.from('12345')]), Buffer.from([255, 0])], 'stdin=true&stdout=true');
    expect(channel(session, 1).trim()).toBe('5');
    expect(JSON.parse(channel(session, 3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('v4 is served to clients that do not offer v5; only stderr → first frame on channel 2', async () => {
    const session = await rawExec(['v4.channel.k8s.io'], ['sh', '-c', 'echo e >&2'], [], 'stderr=true');
    expect(session.protocol).toBe('v4.channel.k8s.io');
    expect([...session.frames[0]!]).toEqual([2]);
    expect(channel(session, 2)).toBe('e\n');
    expect(JSON.parse(channel(session, 3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('no stream requested → 400 before the upgrade', async () => {
    await expect(rawExec(['v5.channel.k8s.io'], ['true'], [], 'tty=false')).rejects.toThrow(/400/);
  });
});
