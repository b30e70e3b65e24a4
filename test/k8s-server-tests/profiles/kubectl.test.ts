import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, profileCluster, type ProfileCluster } from './helpers.js';

/**
 * kubectl against old and new profiles. The machine's `kubectl` picks the client of the
 * server's minor version (1.27–1.33; its own 1.32 beyond), as users of each version have it:
 * kubectl before 1.30 speaks SPDY for exec and attach, 1.30+ WebSocket first.
 */

const [v128, v130] = await Promise.all([profileCluster({ kubeVersion: '1.28' }), profileCluster({ kubeVersion: '1.30' })]);
const cacheDir = mkdtempSync(join(tmpdir(), 'kubecache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

function kubectl(c: ProfileCluster, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, KUBECACHEDIR: join(cacheDir, c.cluster.profile.server.version), KUBECONFIG: '' };
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', c.cluster.kubeconfigPath, '-n', c.namespace, ...args], { env, timeout: 45_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('kubectl exec by version', () => {
  it('1.28 (kubectl 1.28, SPDY): refused as a server without SPDY refuses it; logs work', async () => {
    const pod = await v128.runPod('echo hello; sleep 600', isRunning);
    const exec = await kubectl(v128, ['exec', pod.metadata.name, '--', 'echo', 'hi']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toBe('Error from server (BadRequest): Upgrade request required\n');
    expect((await kubectl(v128, ['logs', pod.metadata.name])).stdout).toBe('hello\n');
  });

  it('1.30 (kubectl 1.30, WebSocket v5): exec with stdin and exit codes', async () => {
    const pod = await v130.runPod('sleep 600', isRunning);
    const exec = await kubectl(v130, ['exec', pod.metadata.name, '--', 'sh', '-c', 'echo out; exit 3']);
    expect(exec).toMatchObject({ code: 3, stdout: 'out\n' });
  });
});
