import { describe, expect, it } from 'vitest';
import { channelText, rawExec } from '../raw-exec.js';
import { isRunning, profileCluster, type ProfileCluster } from './helpers.js';

/**
 * exec/attach subprotocols by version: v5.channel.k8s.io (stdin CLOSE frame) only where the
 * API server translates it (TranslateStreamCloseWebsocketRequests: 1.29 alpha, on from 1.30);
 * below, the kubelet's own WebSocket protocols (channel.k8s.io, base64, v4, v4.base64).
 */

const [v128, v129, v129on, v130] = await Promise.all([
  profileCluster({ kubeVersion: '1.28' }),
  profileCluster({ kubeVersion: '1.29' }),
  profileCluster({ kubeVersion: '1.29', featureGates: 'TranslateStreamCloseWebsocketRequests=true' }),
  profileCluster({ kubeVersion: '1.30' }),
]);
const pods = new Map<ProfileCluster, string>();
await Promise.all([v128, v129, v129on, v130].map(async (c) => pods.set(c, (await c.runPod('sleep 600', isRunning)).metadata.name)));

const exec = (c: ProfileCluster, protocols: string[], command: string[], input: Buffer[] = [], flags?: string) =>
  rawExec({ url: c.cluster.url, kc: c.kc, namespace: c.namespace, pod: pods.get(c)! }, protocols, command, input, flags);

describe('exec subprotocols by version', () => {
  it('a client offering v5 and v4 gets v5 where the translation is on, v4 below', async () => {
    const offered = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    for (const [c, expected] of [[v128, 'v4.channel.k8s.io'], [v129, 'v4.channel.k8s.io'], [v129on, 'v5.channel.k8s.io'], [v130, 'v5.channel.k8s.io']] as const) {
      const session = await exec(c, offered, ['sh', '-c', 'echo ok']);
      expect({ version: c.cluster.profile.describe(), protocol: session.protocol }).toEqual({ version: c.cluster.profile.describe(), protocol: expected });
      expect(channelText(session, 1)).toBe('ok\n');
      expect(JSON.parse(channelText(session, 3))).toEqual({ metadata: {}, status: 'Success' });
    }
  });

  it('v5 alone (kubectl 1.30+) is refused below: the kubelet answers a bare 403, so kubectl falls back to SPDY', async () => {
    await expect(exec(v128, ['v5.channel.k8s.io'], ['true'])).rejects.toThrow('upgrade refused: 403');
    await expect(exec(v129, ['v5.channel.k8s.io'], ['true'])).rejects.toThrow('upgrade refused: 403');
    expect((await exec(v130, ['v5.channel.k8s.io'], ['true'])).protocol).toBe('v5.channel.k8s.io');
  });

  it('the kubelet takes the first offered protocol it knows, in the client\'s order; v2/v3 are SPDY-only names', async () => {
    expect((await exec(v130, ['v4.base64.channel.k8s.io', 'v4.channel.k8s.io'], ['true'])).protocol).toBe('v4.base64.channel.k8s.io');
    expect((await exec(v128, ['channel.k8s.io', 'v4.channel.k8s.io'], ['true'])).protocol).toBe('channel.k8s.io');
    await expect(exec(v130, ['v3.channel.k8s.io', 'v2.channel.k8s.io'], ['true'])).rejects.toThrow('upgrade refused: 403');
  });

  it('on v4 a [255, 0] frame is no stdin close: input after it still reaches the command', async () => {
    // head reads 6 bytes: on v5 the CLOSE frame ends its input after 3, on v4 the frame is ignored.
    const input = [Buffer.from([0, ...Buffer.from('abc')]), Buffer.from([255, 0]), Buffer.from([0, ...Buffer.from('def')])];
    const v4 = await exec(v128, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['head', '-c', '6'], input, 'stdin=true&stdout=true');
    expect(channelText(v4, 1)).toBe('abcdef');
    const v5 = await exec(v130, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['head', '-c', '6'], input, 'stdin=true&stdout=true');
    expect(channelText(v5, 1)).toBe('abc');
  });
});
