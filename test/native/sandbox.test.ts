import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import { alive, nativeFixture } from './helpers.js';
import { eventually } from '../support/poll.js';

const fx = nativeFixture();

describe('native sandboxes', () => {
  it('exec runs in the sandbox tree with per-call env; a mount is shared with tasks', async () => {
    const driver = await fx.driver();
    const sandbox = await driver.startSandbox!({ id: fx.id('sb'), image: 'busybox', env: { BASE: 'b' }, mounts: [{ volume: 'shared', path: 'v' }] });
    const out = new CollectingWritable();
    const status = await sandbox.exec(['sh', '-c', 'printf "%s %s" "$BASE" "$CALL" > v/f; cat v/f'], { env: { CALL: 'c' }, stdout: out });
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    expect(out.text()).toBe('b c');
    const files = await driver.readFilesFromVolume!('shared', ['f']);
    const chunks: Buffer[] = [];
    for await (const chunk of files) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('latin1')).toContain('b c');
    await sandbox.cleanup();
  });

  it('aborting an exec kills its process group', async () => {
    const driver = await fx.driver();
    const sandbox = await driver.startSandbox!({ id: fx.id('abort'), image: 'busybox' });
    const out = new CollectingWritable();
    const controller = new AbortController();
    const running = sandbox.exec(['sh', '-c', 'sleep 100 & echo $!; wait'], { stdout: out, signal: controller.signal });
    await eventually(() => out.text().includes('\n'), 5_000, 'the background pid');
    const pid = Number(out.text().trim());
    controller.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    await eventually(() => !alive(pid), 5_000, 'the exec to be killed');
    await sandbox.cleanup();
  });

  it("close of a fresh instance stops a sandbox exec another instance started", async () => {
    const driver = await fx.driver();
    const sandbox = await driver.startSandbox!({ id: fx.id('foreign'), image: 'busybox' });
    const out = new CollectingWritable();
    const running = sandbox.exec(['sh', '-c', 'echo $$; sleep 100'], { stdout: out });
    await eventually(() => out.text().includes('\n'), 5_000, 'the exec pid');
    const pid = Number(out.text().trim());
    const fresh = await fx.driver({ namespace: driver.namespace });
    await fresh.close();
    expect(alive(pid)).toBe(false);
    expect((await running).exitCode).toBe(143);
  });

  it('200 execs, 10 at a time, each get their first bytes on both streams', async () => {
    // The pipes of an exec were once read for a moment by a helper process before it was
    // killed: with execs started side by side, some lost their first (here: all) output.
    const driver = await fx.driver();
    const sandbox = await driver.startSandbox!({ id: fx.id('first'), image: 'busybox' });
    const lost: string[] = [];
    const one = async (i: number): Promise<void> => {
      const stdout = new CollectingWritable();
      const stderr = new CollectingWritable();
      await sandbox.exec(['sh', '-c', 'printf "out %s" "$N"; printf "err %s" "$N" >&2'], { env: { N: String(i) }, stdout, stderr });
      if (stdout.text() !== `out ${i}` || stderr.text() !== `err ${i}`) lost.push(`${i}: ${JSON.stringify(stdout.text())} ${JSON.stringify(stderr.text())}`);
    };
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 10 }, (_, k) => one(round * 10 + k)));
    expect(lost).toEqual([]);
    await sandbox.cleanup();
  });
});
