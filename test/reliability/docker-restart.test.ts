import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { testNamespace } from '../setup/test-run.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { sh, until } from './drivers.js';

// A Docker engine of this file's own: the shared one is never restarted (other files use it).
const dir = `/tmp/dt-rel-${randomBytes(4).toString('hex')}`;
const socketPath = join(dir, 'docker.sock');
let daemon: ChildProcess | undefined;

async function startDaemon(): Promise<void> {
  // live-restore: containers keep running while the daemon is down, as in production setups.
  const args = [`--host=unix://${socketPath}`, `--data-root=${dir}/data`, `--exec-root=${dir}/exec`, `--pidfile=${dir}/pid`, '--bridge=none', '--iptables=false', '--live-restore'];
  daemon = spawn('dockerd', args, { stdio: 'ignore' });
  const client = new Dockerode({ socketPath });
  await until(async () => client.ping().then(() => true, () => false), 30_000, 'the test dockerd to answer');
}

async function stopDaemon(): Promise<void> {
  const running = daemon;
  daemon = undefined;
  if (running === undefined || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  await startDaemon();
  execFileSync('sh', ['-c', `docker save busybox | DOCKER_HOST=unix://${socketPath} docker load -q`], { stdio: 'ignore', timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await stopDaemon();
  // dockerd bind-mounts its data root onto itself; release it before removing the directory.
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
    const mountPoint = line.split(' ')[1];
    if (mountPoint?.startsWith(dir)) execFileSync('umount', [mountPoint], { stdio: 'ignore' });
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('docker driver across an engine restart (own dockerd)', () => {
  // A wait() opened before the restart loses its long poll's connection silently; it must still
  // report the true exit code (docs/reliability.md, bug 8), as must status() and a fresh wait().
  it('a task running while the engine restarts: a wait opened before, status, a fresh wait and logs stay true', async () => {
    const driver: Driver = createDockerDriver({ namespace: testNamespace('rdr'), docker: new Dockerode({ socketPath }) });
    try {
      const signal = AbortSignal.timeout(60_000);
      const container = await driver.runContainer({ id: 'survivor', image: 'busybox', command: sh('echo before; sleep 3; echo after; exit 4') }, { signal });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal }).catch((error: unknown) => error);
      const waitedAcross = container.wait({ signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => error);
      await until(async () => stdout.text().includes('before'), 20_000, 'the first line');
      await stopDaemon();
      await startDaemon();
      expect(await waitedAcross).toMatchObject({ done: true, exitCode: 4 });
      expect(await container.status({ signal })).toMatchObject({ done: true, exitCode: 4 });
      expect(await container.wait({ signal })).toMatchObject({ done: true, exitCode: 4 });
      expect((await readLogs(container, { signal })).stdout).toBe('before\nafter\n');
      // A follow cut by the restart either resumed to the end or rejected: it never invents lines.
      const followed = await following;
      expect(followed === undefined || followed instanceof Error).toBe(true);
      expect('before\nafter\n'.startsWith(stdout.text())).toBe(true);
    } finally {
      await driver.close({ signal: AbortSignal.timeout(30_000) });
    }
  }, 120_000);
});
