import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { testNamespace } from '../setup/test-run.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver, type DockerContainer } from '../../drivers/docker/index.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { sh } from './drivers.js';
import { eventually } from '../support/poll.js';

// A Docker engine of this file's own: the shared one is never restarted (other files use it).
const dir = `/tmp/dt-rel-${randomBytes(4).toString('hex')}`;
const socketPath = join(dir, 'docker.sock');
let daemon: ChildProcess | undefined;

async function startDaemon(): Promise<void> {
  // live-restore: containers keep running while the daemon is down, as in production setups.
  const args = [`--host=unix://${socketPath}`, `--data-root=${dir}/data`, `--exec-root=${dir}/exec`, `--pidfile=${dir}/pid`, '--bridge=none', '--iptables=false', '--live-restore'];
  daemon = spawn('dockerd', args, { stdio: 'ignore' });
  const client = new Dockerode({ socketPath });
  await eventually(async () => client.ping().then(() => true, () => false), 30_000, 'the test dockerd to answer');
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

/** The host pid of a container's main process (the engine's `State.Pid`). */
async function hostPid(engineId: string): Promise<number> {
  return (await new Dockerode({ socketPath }).getContainer(engineId).inspect()).State.Pid;
}

/** Whether a host process lives (a container's process outlives its engine with `--live-restore`). */
function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

describe('docker driver across an engine restart (own dockerd)', () => {
  // A wait() opened before the restart loses its long poll's connection silently; it must still
  // report the true exit code (docs/reliability.md, bug 8), as must status() and a fresh wait().
  // The task writes its last line only once the restarted engine releases it (an exec through
  // it): what a task writes while the engine is down is the engine's to keep or lose (next case).
  it('a task running while the engine restarts: a wait opened before, status, a fresh wait and logs stay true', async () => {
    const driver: Driver = createDockerDriver({ namespace: testNamespace('rdr'), docker: new Dockerode({ socketPath }) });
    try {
      const signal = AbortSignal.timeout(60_000);
      const container = await driver.runContainer({ id: 'survivor', image: 'busybox', command: sh('echo before; until [ -e /tmp/go ]; do sleep 0.05; done; echo after; exit 4') }, { signal });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal }).catch((error: unknown) => error);
      const waitedAcross = container.wait({ signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => error);
      await eventually(async () => stdout.text().includes('before'), 20_000, 'the first line');
      await stopDaemon();
      await startDaemon();
      await release((container as DockerContainer).engineId);
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

  // What a loaded machine does to the case above when the task does not wait to be released:
  // the engine's restart takes longer than the task's last moments. Output written while dockerd
  // is down by a task that ends before dockerd is back is mostly dropped by the engine itself
  // (20.10, json-file and local alike: the restore of an exited task does not reliably drain its
  // stdio). The driver reports the true exit code, does not hang, and invents nothing.
  it('a task that writes and ends while the engine is down: exit code true, no invented output', async () => {
    const driver: Driver = createDockerDriver({ namespace: testNamespace('rdr'), docker: new Dockerode({ socketPath }) });
    try {
      const signal = AbortSignal.timeout(60_000);
      const container = await driver.runContainer({ id: 'downtime', image: 'busybox', command: sh('echo before; until [ -e /tmp/go ]; do sleep 0.05; done; echo after; exit 4') }, { signal });
      await eventually(async () => (await readLogs(container, { signal })).stdout === 'before\n', 20_000, 'the first line');
      const pid = await hostPid((container as DockerContainer).engineId);
      await stopDaemon();
      // The engine is down: the task is released from the host (its /tmp is in its own root)
      // and writes its last line and ends before the engine is back.
      execFileSync('nsenter', ['-t', String(pid), '-m', 'touch', '/tmp/go']);
      await eventually(async () => !alive(pid), 20_000, 'the task to end while the engine is down');
      await startDaemon();
      expect(await container.wait({ signal })).toMatchObject({ done: true, exitCode: 4 });
      const { stdout } = await readLogs(container, { signal });
      expect(stdout.startsWith('before\n') && 'before\nafter\n'.startsWith(stdout)).toBe(true);
    } finally {
      await driver.close({ signal: AbortSignal.timeout(30_000) });
    }
  }, 120_000);
});

/** Lets the task write its last line: an exec through the (restarted) engine. */
async function release(engineId: string): Promise<void> {
  const exec = await new Dockerode({ socketPath }).getContainer(engineId).exec({ Cmd: ['touch', '/tmp/go'] });
  await exec.start({ Detach: true });
}
