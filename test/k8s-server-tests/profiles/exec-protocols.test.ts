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

describe('exec on a terminal, v4 (1.28) and v5 (1.30)', () => {
  /** Sizes as client-go writes them: one JSON object and a newline per size. */
  const size = (width: number, height: number) => `${JSON.stringify({ Width: width, Height: height })}\n`;
  /**
   * Ends once the terminal is `rows cols`, else after ~30 s with the size it has: a size that
   * never came fails, never hangs. Until its first size a terminal is 0×0, which busybox's
   * `stty size` reports as an error: silenced.
   */
  const awaitSize = (rows: number, cols: number) =>
    `i=0; until [ "$(stty size 2>/dev/null)" = "${rows} ${cols}" ] || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.05; done; echo "size $(stty size)"`;

  it('sizes on channel 4 are read as one JSON stream and applied in order; stderr is the terminal\'s; the exit code comes on channel 3', async () => {
    // 30 sizes, the last one wins: a runtime applying them concurrently would leave another one last.
    let stream = '';
    for (let i = 0; i < 30; i += 1) stream += size(60 + i, 20 + i);
    stream += size(0, 0) + size(0, 99); // sides below 1 are skipped, as the kubelet's HandleResizing does
    const bytes = Buffer.from(stream);
    // Cut anywhere, objects split across frames and several in one: the kubelet's json.Decoder reads through.
    const frames = [bytes.subarray(0, 7), bytes.subarray(7, 200), bytes.subarray(200)].map((part) => Buffer.concat([Buffer.from([4]), part]));
    for (const [c, protocol] of [[v128, 'v4.channel.k8s.io'], [v130, 'v5.channel.k8s.io']] as const) {
      const session = await exec(c, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['sh', '-c', `${awaitSize(49, 89)}; tty; echo oops >&2; exit 3`], frames, 'stdin=true&stdout=true&stderr=true&tty=true');
      expect(session.protocol).toBe(protocol);
      expect(channelText(session, 1)).toBe('size 49 89\r\n/dev/pts/0\r\noops\r\n');
      expect(session.frames.filter((f) => f[0] === 2)).toEqual([]);
      expect(JSON.parse(channelText(session, 3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    }
  });

  it('a size that does not decode ends the resizing there, as the kubelet\'s decoder loop does; lowercase keys (client-node) are read', async () => {
    const frames = [`{"width":70,"height":21}`, `{"Width":-1,"Height":5}`, size(90, 30)].map((text) => Buffer.concat([Buffer.from([4]), Buffer.from(text)]));
    const session = await exec(v130, ['v5.channel.k8s.io'], ['sh', '-c', `${awaitSize(21, 70)}; sleep 0.3; stty size`], frames, 'stdin=true&stdout=true&tty=true');
    expect(channelText(session, 1)).toBe('size 21 70\r\n21 70\r\n');
  });
});
