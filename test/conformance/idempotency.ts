import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { expectOutput, finish, readOutput, runToEnd, sh } from './helpers.js';

/** One task ID is one run: under races and across driver instances. */
export function idempotencyCases(h: Harness): void {
  describe('idempotency', () => {
    it('15 concurrent runContainer calls with one ID run the task once and report one outcome', async () => {
      const driver = h.driver();
      const volume = h.volumeName('race');
      const id = h.taskId('race');
      const task = h.task(id, sh('echo run >> c/runs; echo ran; exit 3'), { mounts: [{ volume, path: 'c' }] });
      const containers = await Promise.all(Array.from({ length: 15 }, () => driver.runContainer(task, { signal: h.signal() })));
      const statuses = await Promise.all(containers.map((c) => c.wait({ signal: h.signal() })));
      for (const [i, status] of statuses.entries()) {
        expect(containers[i]?.id).toBe(id);
        expect(status).toMatchObject({ done: true, exitCode: 3 });
      }
      expect((await readOutput(containers[14]!, h.signal())).stdout).toBe('ran\n');
      const counter = await runToEnd(driver, h.task(h.taskId('race-count'), sh('wc -l < c/runs'), { mounts: [{ volume, path: 'c' }] }), h.signal());
      expect(counter.stdout.trim()).toBe('1');
    }, h.caseTimeoutMs);

    it("a caller that gives up is rejected alone: another caller of the same start gets the task, run once", async () => {
      const driver = h.driver();
      const id = h.taskId('shared');
      const task = h.task(id, sh('echo shared'));
      const first = new AbortController();
      const reason = new Error('the first caller gave up');
      const given = driver.runContainer(task, { signal: first.signal });
      const kept = driver.runContainer(task, { signal: h.signal() });
      first.abort(reason);
      await expect(given).rejects.toBe(reason);
      const result = await finish(await kept, h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('shared\n');
    }, h.caseTimeoutMs);

    it('a fresh driver of the same namespace reattaches: same status and logs', async () => {
      const driver = h.driver();
      const id = h.taskId('reattach');
      const original = await runToEnd(driver, h.task(id, sh('echo out; echo err >&2; exit 7')), h.signal());
      const fresh = await h.createDriver();
      const found = await fresh.getContainer(id, { signal: h.signal() });
      expect(found.id).toBe(id);
      expect(await found.status({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 7 });
      expect(await found.wait({ signal: h.signal() })).toEqual(original.status);
      expect(await readOutput(found, h.signal())).toEqual({ stdout: original.stdout, stderr: original.stderr, streams: original.streams });
      expectOutput(original, 'out\n', 'err\n');
    }, h.caseTimeoutMs);

    it('a fresh driver reattaches to a running task and waits for its end', async () => {
      const driver = h.driver();
      const id = h.taskId('reattach-running');
      const stdin = new PassThrough();
      await driver.runContainer(h.task(id, sh('read x; echo "got $x"'), { stdin }), { signal: h.signal() });
      const fresh = await h.createDriver();
      const found = await fresh.getContainer(id, { signal: h.signal() });
      expect(await found.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      stdin.end('ping\n');
      expect(await found.wait({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
      expect((await readOutput(found, h.signal())).stdout).toBe('got ping\n');
    }, h.caseTimeoutMs);

    it('runContainer from a fresh driver returns the existing task instead of running it again', async () => {
      const driver = h.driver();
      const volume = h.volumeName('again');
      const task = h.task(h.taskId('again'), sh('echo run >> c/runs'), { mounts: [{ volume, path: 'c' }] });
      await runToEnd(driver, task, h.signal());
      const fresh = await h.createDriver();
      const again = await runToEnd(fresh, task, h.signal());
      expect(again.status).toMatchObject({ done: true, exitCode: 0 });
      const counter = await runToEnd(driver, h.task(h.taskId('again-count'), sh('wc -l < c/runs'), { mounts: [{ volume, path: 'c' }] }), h.signal());
      expect(counter.stdout.trim()).toBe('1');
    }, h.caseTimeoutMs);
  });
}
