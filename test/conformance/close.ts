import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { readOutput, runToEnd, sh } from './helpers.js';

/** close reaps the namespace, running containers and volumes included, and nothing else. */
export function closeCases(h: Harness): void {
  describe('close', () => {
    it('close removes running and finished containers and volumes of its namespace, and nothing of another', async () => {
      const driver = h.driver();
      const volume = h.volumeName('reaped');
      const mounts = [{ volume, path: 'v' }];
      const finishedId = h.taskId('finished');
      const runningId = h.taskId('running');
      await runToEnd(driver, h.task(finishedId, sh('touch v/marker'), { mounts }), h.signal());
      const running = await driver.runContainer(h.task(runningId, ['sleep', '300']), { signal: h.signal() });
      expect((await running.status({ signal: h.signal() })).done).toBe(false);

      // A neighbour in another namespace waits on stdin, so it is certainly still running after close.
      const neighbourDriver = await h.createDriver(h.randomNamespace());
      const stdin = new PassThrough();
      const neighbour = await neighbourDriver.runContainer(h.task(h.taskId('neighbour'), sh('read x; echo "still $x"'), { stdin }), { signal: h.signal() });

      const started = Date.now();
      await driver.close({ signal: h.signal() });
      // A running `sleep 300` must be killed, not waited for.
      expect(Date.now() - started).toBeLessThan(h.scaled(15_000));
      await driver.close({ signal: h.signal() });

      const after = await h.createDriver(driver.namespace);
      await expect(after.getContainer(runningId, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(after.getContainer(finishedId, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      const probe = await runToEnd(after, h.task(h.taskId('probe'), sh('test -e v/marker'), { mounts }), h.signal());
      expect(probe.status).toMatchObject({ done: true, exitCode: 1 });

      expect(await neighbour.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      stdin.end('alive\n');
      expect(await neighbour.wait({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
      expect((await readOutput(neighbour, h.signal())).stdout).toBe('still alive\n');
    }, h.caseTimeoutMs);
  });
}
