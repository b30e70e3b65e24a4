import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { sh } from './helpers.js';
import { eventually } from '../support/poll.js';

/** Deadlines and abort signals end work promptly and leave nothing behind. */
export function timeoutCases(h: Harness): void {
  describe('timeouts and abort', () => {
    it('timeoutMs 500 ends sleep 30 with reason DeadlineExceeded, well before 30 s', async () => {
      const started = Date.now();
      const container = await h.driver().runContainer(h.task(h.taskId('deadline'), ['sleep', '30'], { timeoutMs: 500 }), { signal: h.signal() });
      const status = await container.wait({ signal: h.signal() });
      expect(status).toMatchObject({ done: true, reason: 'DeadlineExceeded' });
      // The process was killed: whatever code is reported, it is not a success.
      expect(status.exitCode).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(h.scaled(15_000));
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: true, reason: 'DeadlineExceeded', exitCode: status.exitCode });
    }, h.caseTimeoutMs);

    it('a task that ends before its timeoutMs keeps its own exit code', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('in-time'), sh('exit 4'), { timeoutMs: 60_000 }), { signal: h.signal() });
      const status = await container.wait({ signal: h.signal() });
      expect(status).toMatchObject({ done: true, exitCode: 4 });
      expect(status.reason).not.toBe('DeadlineExceeded');
    }, h.caseTimeoutMs);

    it('an already-aborted signal rejects runContainer at once with an AbortError, and nothing is created', async () => {
      const driver = h.driver();
      const id = h.taskId('aborted');
      const controller = new AbortController();
      controller.abort();
      const started = Date.now();
      const error = await driver.runContainer(h.task(id, ['true']), { signal: controller.signal }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(1_000);
      await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
    }, h.caseTimeoutMs);

    it('aborting while runContainer is under way rejects with the reason and leaves nothing behind', async () => {
      const driver = h.driver();
      const id = h.taskId('abort-midway');
      const controller = new AbortController();
      const reason = new Error('stop now');
      const running = driver.runContainer(h.task(id, ['sleep', '300']), { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 5).unref();
      const outcome = await running.then(
        (container) => ({ container }),
        (error: unknown) => ({ error }),
      );
      if ('error' in outcome) {
        expect(outcome.error).toBe(reason);
        // Whatever the run had started is removed (perhaps a moment after the rejection).
        await eventually(
          async () => driver.getContainer(id, { signal: h.signal() }).then(() => undefined, (e: unknown) => (e instanceof ContainerNotFoundError ? true : undefined)),
          h.scaled(10_000),
          'the aborted run to be removed',
        );
      } else {
        // The run won the race: the signal came too late to matter, and the task runs normally.
        expect(await outcome.container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
        await outcome.container.cleanup({ signal: h.signal() });
      }
    }, h.caseTimeoutMs);

    it('an aborted wait rejects promptly and does not stop the task', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('abort-wait'), ['sleep', '300']), { signal: h.signal() });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50).unref();
      const started = Date.now();
      await expect(container.wait({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(h.scaled(5_000));
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      await container.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it('a follow aborted mid-stream rejects promptly with the reason, and the task keeps running', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('abort-follow'), sh('while true; do echo tick; sleep 0.1; done')), { signal: h.signal() });
      const controller = new AbortController();
      const reason = new Error('reader gone');
      // The first bytes prove the follow is live; then the reader gives up.
      const stdout = new PassThrough();
      let abortedAt = 0;
      stdout.on('data', () => {
        if (abortedAt !== 0) return;
        abortedAt = Date.now();
        controller.abort(reason);
      });
      await expect(container.logs({ stdout, follow: true, signal: controller.signal })).rejects.toBe(reason);
      expect(Date.now() - abortedAt).toBeLessThan(h.scaled(5_000));
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      await container.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);
  });
}
