import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, DriverClosedError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { defaultWorkDir, taskDirName } from '../../src/names.js';
import { nativeFixture, runToEnd, task } from './helpers.js';

const fx = nativeFixture();

describe('native reattach and idempotency', () => {
  it('20 racing runContainer calls start exactly one process', async () => {
    const driver = await fx.driver();
    const id = fx.id('race');
    const t = task(id, ['sh', '-c', 'echo $$ >> v/pids; sleep 0.2'], { mounts: [{ volume: 'race', path: 'v' }] });
    const containers = await Promise.all(Array.from({ length: 20 }, () => driver.runContainer(t)));
    const statuses = await Promise.all(containers.map((c) => c.wait()));
    expect(statuses.every((s) => s.done && s.exitCode === 0)).toBe(true);
    const pids = readFileSync(join(fx.root, driver.namespace, 'volumes', 'race', 'pids'), 'utf8').trim().split('\n');
    expect(pids).toHaveLength(1);
  });

  it('a fresh instance follows a running task live and sees its end, logs and exit code', async () => {
    const driver = await fx.driver();
    const id = fx.id('live');
    const stdin = new PassThrough();
    await driver.runContainer(task(id, ['sh', '-c', 'echo ready; read x; echo "got $x" >&2; exit 5'], { stdin }));
    const fresh = await fx.driver({ namespace: driver.namespace });
    const found = await fresh.getContainer(id);
    expect(await found.status()).toEqual({ done: false, exitCode: null });
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const following = found.logs({ stdout, stderr, follow: true });
    const waiting = found.wait();
    stdin.end('go\n');
    expect(await waiting).toMatchObject({ done: true, exitCode: 5 });
    await following;
    expect(stdout.text()).toBe('ready\n');
    expect(stderr.text()).toBe('got go\n');
    // The same ID from the fresh instance returns the existing task, not a new run.
    const again = await fresh.runContainer(task(id, ['sh', '-c', 'exit 0']));
    expect(await again.status()).toMatchObject({ done: true, exitCode: 5 });
  });

  // The conformance suite aborts a follow of a driver's own task; this one is reattached.
  it('an aborted follow of a reattached task rejects promptly, and the task keeps running', async () => {
    const driver = await fx.driver();
    const id = fx.id('follow-abort');
    const container = await driver.runContainer(task(id, ['sleep', '300']));
    const fresh = await fx.driver({ namespace: driver.namespace });
    const found = await fresh.getContainer(id);
    const started = Date.now();
    await expect(found.logs({ follow: true, stdout: new CollectingWritable(), signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await found.status()).toEqual({ done: false, exitCode: null });
    await found.cleanup();
    expect(await container.wait({ signal: AbortSignal.timeout(5_000) })).toMatchObject({ done: true });
  });

  it('a task owned by another Node process is followed through task.json and its pid', async () => {
    const driver = await fx.driver();
    const id = fx.id('foreign');
    const owner = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'own-task.ts'), fx.root, driver.namespace, id], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve());
        owner.once('exit', (code) => reject(new Error(`the owner process exited early with ${code}`)));
      });
      const found = await driver.getContainer(id);
      expect(await found.status()).toEqual({ done: false, exitCode: null });
      const stdout = new CollectingWritable();
      const stderr = new CollectingWritable();
      const following = found.logs({ stdout, stderr, follow: true, signal: AbortSignal.timeout(20_000) });
      writeFileSync(join(fx.root, driver.namespace, 'tasks', taskDirName(id), 'fs', defaultWorkDir(id), 'go'), '');
      expect(await found.wait({ signal: AbortSignal.timeout(20_000) })).toMatchObject({ done: true, exitCode: 3 });
      await following;
      expect({ stdout: stdout.text(), stderr: stderr.text() }).toEqual({ stdout: 'waiting\n', stderr: 'done\n' });
    } finally {
      owner.kill('SIGKILL');
    }
  }, 40_000);

  it("a recorded process that is gone without a final status is reported unknown, never as 0", async () => {
    const driver = await fx.driver();
    const id = fx.id('lost');
    const { container } = await runToEnd(driver, task(id, ['true']));
    const recordPath = join(fx.root, driver.namespace, 'tasks', taskDirName(id), 'task.json');
    const record = JSON.parse(readFileSync(recordPath, 'utf8'));
    // As if the owning Node process had died before it could record the end.
    writeFileSync(recordPath, JSON.stringify({ ...record, ownerPid: 2 ** 30, status: { done: false, exitCode: null } }));
    const fresh = await fx.driver({ namespace: driver.namespace });
    const found = await fresh.getContainer(id);
    const started = Date.now();
    expect(await found.wait({ signal: AbortSignal.timeout(5_000) })).toMatchObject({ done: true, exitCode: null, reason: 'Unknown' });
    // A dead owner will never record the end: no grace is spent waiting for it.
    expect(Date.now() - started).toBeLessThan(1_000);
    await container.cleanup();
  });

  it('close stops running tasks of its namespace only, removes its directory, and is final', async () => {
    const [driver, neighbour] = await Promise.all([fx.driver(), fx.driver()]);
    const running = await driver.runContainer(task(fx.id('sleeper'), ['sleep', '300']));
    const other = await neighbour.runContainer(task(fx.id('neighbour'), ['sleep', '300']));
    const started = Date.now();
    await driver.close();
    await driver.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(driver.getContainer(running.id)).rejects.toBeInstanceOf(DriverClosedError);
    const after = await fx.driver({ namespace: driver.namespace });
    await expect(after.getContainer(running.id)).rejects.toBeInstanceOf(ContainerNotFoundError);
    expect(await other.status()).toEqual({ done: false, exitCode: null });
    await other.cleanup();
  });
});
