import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH } from '../../drivers/native/options.js';
import { CollectingWritable } from '../../src/logs.js';
import { alive, nativeFixture, runToEnd, task } from './helpers.js';
import { eventually } from '../support/poll.js';

const fx = nativeFixture();

describe('native processes', () => {
  it("the task sees only its own variables and a minimal PATH, nothing of the host's", async () => {
    const driver = await fx.driver();
    process.env.DRIVETRAIN_NATIVE_HOST_MARKER = 'host-only';
    try {
      const plain = await runToEnd(driver, task(fx.id('env'), ['env'], { env: { OWN: 'mine' } }));
      const lines = plain.stdout.trim().split('\n').sort();
      // `env` may add PWD-like variables of its own only through a shell; run directly it prints exactly the environment.
      expect(lines).toEqual(['OWN=mine', `PATH=${DEFAULT_PATH}`].sort());
      const ownPath = await runToEnd(driver, task(fx.id('env-path'), ['/usr/bin/env'], { env: { PATH: '/bin' } }));
      expect(ownPath.stdout).toBe('PATH=/bin\n');
    } finally {
      delete process.env.DRIVETRAIN_NATIVE_HOST_MARKER;
    }
  });

  it('a missing command exits 127 "command not found"; a non-executable file exits 126', async () => {
    const driver = await fx.driver();
    const missing = await runToEnd(driver, task(fx.id('missing'), ['no-such-command-drivetrain']));
    expect(missing.status).toMatchObject({ done: true, exitCode: 127, message: 'command not found' });
    const script = join(fx.root, `plain-${fx.id('f')}`);
    writeFileSync(script, 'echo never\n');
    chmodSync(script, 0o644);
    const notExecutable = await runToEnd(driver, task(fx.id('noexec'), [script]));
    expect(notExecutable.status).toMatchObject({ done: true, exitCode: 126 });
    // Stays so for a fresh instance that reads task.json.
    const fresh = await fx.driver({ namespace: driver.namespace });
    expect(await (await fresh.getContainer(missing.container.id)).status()).toMatchObject({ done: true, exitCode: 127 });
  });

  it('a process killed by a signal reports 128+n; timeoutMs kills with reason DeadlineExceeded', async () => {
    const driver = await fx.driver();
    const killed = await runToEnd(driver, task(fx.id('self-kill'), ['sh', '-c', 'kill -TERM $$; sleep 5']));
    expect(killed.status).toMatchObject({ done: true, exitCode: 143 });
    const started = Date.now();
    const late = await runToEnd(driver, task(fx.id('deadline'), ['sleep', '30'], { timeoutMs: 200 }));
    expect(late.status).toMatchObject({ done: true, exitCode: 137, reason: 'DeadlineExceeded' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cleanup kills the whole process group, background children included', async () => {
    const driver = await fx.driver();
    const container = await driver.runContainer(task(fx.id('group'), ['sh', '-c', 'sleep 100 & echo $!; wait']));
    const out = new CollectingWritable();
    await eventually(async () => {
      await container.logs({ stdout: out });
      return out.text().includes('\n');
    }, 5_000, 'the background pid');
    const pid = Number(out.text().trim().split('\n')[0]);
    expect(alive(pid)).toBe(true);
    await container.cleanup();
    expect(alive(pid)).toBe(false);
  });

  it('what a finished task left running in the background is killed with it', async () => {
    const driver = await fx.driver();
    const result = await runToEnd(driver, task(fx.id('orphan'), ['sh', '-c', 'sleep 100 & echo $!']));
    expect(result.status.exitCode).toBe(0);
    const pid = Number(result.stdout.trim());
    await eventually(() => !alive(pid), 5_000, 'the background sleep to be killed');
  });

  it('stdin larger than a pipe is streamed; a process that exits without reading does not crash the driver', async () => {
    const driver = await fx.driver();
    const big = Buffer.alloc(4 * 1024 * 1024, 97);
    const counted = await runToEnd(driver, task(fx.id('wc'), ['wc', '-c'], { stdin: big }));
    expect(counted.stdout.trim()).toBe(String(big.length));
    const early = await runToEnd(driver, task(fx.id('early'), ['true'], { stdin: big }));
    expect(early.status).toMatchObject({ done: true, exitCode: 0 });
  });
});
