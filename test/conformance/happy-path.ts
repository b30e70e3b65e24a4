import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { readOutput, runToEnd, sh } from './helpers.js';

/** A task runs, reports its exit code and output, is idempotent by ID, and cleans up. */
export function happyPathCases(h: Harness): void {
  describe('happy path', () => {
    it('echo hello ends with 0 and logs hello', async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('echo'), ['echo', 'hello']), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('hello\n');
      expect(result.container.id).toMatch(/^echo-/);
    }, h.caseTimeoutMs);

    it('running a finished ID again returns that container with its logs and does not run it twice', async () => {
      const driver = h.driver();
      const volume = h.volumeName('runs');
      const id = h.taskId('once');
      const task = h.task(id, sh('echo run >> runs/count; echo hello'), { mounts: [{ volume, path: 'runs' }] });
      const first = await runToEnd(driver, task, h.signal());
      expect(first.status).toMatchObject({ done: true, exitCode: 0 });

      const again = await driver.runContainer(task, { signal: h.signal() });
      expect(again.id).toBe(id);
      expect(await again.status({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
      expect((await readOutput(again, h.signal())).stdout).toBe('hello\n');

      const counter = await runToEnd(driver, h.task(h.taskId('count'), sh('wc -l < runs/count'), { mounts: [{ volume, path: 'runs' }] }), h.signal());
      expect(counter.stdout.trim()).toBe('1');
    }, h.caseTimeoutMs);

    it('cleanup succeeds twice, and the container is gone afterwards', async () => {
      const driver = h.driver();
      const id = h.taskId('cleanup');
      const { container } = await runToEnd(driver, h.task(id, ['true']), h.signal());
      await container.cleanup({ signal: h.signal() });
      await container.cleanup({ signal: h.signal() });
      await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
    }, h.caseTimeoutMs);

    it('Symbol.asyncDispose removes the container like cleanup', async () => {
      const driver = h.driver();
      const id = h.taskId('dispose');
      const container = await driver.runContainer(h.task(id, ['sleep', '300']), { signal: h.signal() });
      await container[Symbol.asyncDispose]();
      await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
    }, h.caseTimeoutMs);

    it('getContainer finds a task by its ID', async () => {
      const driver = h.driver();
      const id = h.taskId('find');
      await runToEnd(driver, h.task(id, sh('echo found; exit 3')), h.signal());
      const found = await driver.getContainer(id, { signal: h.signal() });
      expect(found.id).toBe(id);
      expect(await found.wait({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 3 });
      expect((await readOutput(found, h.signal())).stdout).toBe('found\n');
    }, h.caseTimeoutMs);

    it('getContainer of an unknown ID rejects with ContainerNotFoundError', async () => {
      const id = h.taskId('unknown');
      const error = await h.driver().getContainer(id, { signal: h.signal() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ContainerNotFoundError);
      expect((error as ContainerNotFoundError).taskId).toBe(id);
    }, h.caseTimeoutMs);
  });
}
