import Dockerode from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPod, containerState, randomName, startTestCluster, type TestCluster } from './helpers.js';

let t: TestCluster;
let kc: k8s.KubeConfig;
const docker = new Dockerode();
beforeAll(async () => {
  t = await startTestCluster();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(t.cluster.kubeconfigPath);
});
afterAll(async () => {
  t?.cluster.faults.clear();
  await t?.stop();
});

/** A watch of the test namespace's pods: its events so far, and whether it has ended. */
async function openWatch(query: Record<string, string>): Promise<{ events: string[]; ended: Promise<void>; stop(): void }> {
  const events: string[] = [];
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const controller = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${t.namespace}/pods`, query, (type, object: k8s.V1Pod) => events.push(`${type} ${object.metadata?.name ?? ''}`), () => markEnded());
  return { events, ended, stop: () => controller.abort() };
}

describe('node and connection faults of the local cluster', () => {
  it('a silenced watch stays open and delivers nothing more, not even its timeout end; new watches work', async () => {
    const silenced = await openWatch({ timeoutSeconds: '1', allowWatchBookmarks: 'true' });
    expect(t.cluster.faults.silenceWatches()).toBeGreaterThanOrEqual(1);
    let silencedEnded = false;
    void silenced.ended.then(() => (silencedEnded = true));
    // Opened after the silenced one with the same timeout: once it has ended, the silenced one would have too.
    const timer = await openWatch({ timeoutSeconds: '1' });
    const fresh = await openWatch({ timeoutSeconds: '60' });
    await timer.ended;
    const name = randomName('quiet');
    await t.apply(busyboxPod(name, 'true'));
    const deadline = Date.now() + 30_000;
    while (!fresh.events.includes(`ADDED ${name}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fresh.events).toContain(`ADDED ${name}`);
    expect(silencedEnded).toBe(false);
    expect(silenced.events.filter((e) => e.endsWith(name))).toEqual([]);
    silenced.stop();
    fresh.stop();
  });

  it('a lost node writes no status and acts on no deletion until it comes back', async () => {
    const name = randomName('lost');
    // The process ends when the test says so, not on its own: the order of events is fixed.
    await t.apply(busyboxPod(name, 'trap "exit 0" TERM; while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3'));
    const running = await t.waitFor('pods', name, (o) => containerState(o)?.running !== undefined);
    const [info] = await docker.listContainers({ filters: { label: [`drivetrain-local-k8s/pod-uid=${running!.metadata.uid}`] } });
    t.cluster.faults.loseNode();
    try {
      expect((await t.kubectl(['delete', 'pod', name, '--wait=false', '--grace-period=1'])).code).toBe(0);
      // A kubelet that heard the deletion would SIGTERM the process (it exits 0 at once); a lost one does not.
      const container = docker.getContainer(info!.Id);
      await container.exec({ Cmd: ['touch', '/tmp/go'] }).then((exec) => exec.start({}));
      expect(await container.wait()).toMatchObject({ StatusCode: 3 });
      const stuck = t.cluster.store.get('pods', t.namespace, name);
      expect(stuck?.metadata.deletionTimestamp).toBeDefined();
      expect(stuck?.status.phase).toBe('Running');
      expect(containerState(stuck).running).toBeDefined();
    } finally {
      t.cluster.faults.recoverNode();
    }
    await t.waitFor('pods', name, (o) => o === undefined);
  });
});
