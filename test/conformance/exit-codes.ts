import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { runToEnd, sh } from './helpers.js';

/** Exit codes are the process's own, 128+n for a signal, and never invented. */
export function exitCodeCases(h: Harness): void {
  describe('exit codes', () => {
    for (const code of [0, 1, 255]) {
      it(`exit ${code} is reported as ${code}, and stays so on later status() and wait()`, async () => {
        const result = await runToEnd(h.driver(), h.task(h.taskId(`exit-${code}`), sh(`exit ${code}`)), h.signal());
        expect(result.status).toMatchObject({ done: true, exitCode: code });
        expect(await result.container.status({ signal: h.signal() })).toMatchObject({ done: true, exitCode: code });
        expect(await result.container.wait({ signal: h.signal() })).toMatchObject({ done: true, exitCode: code });
      }, h.caseTimeoutMs);
    }

    // PID 1 of a container ignores signals it has no handler for, so the killed process is
    // a child; the task's own exit status is then the shell's 128+n for that child.
    it('a process killed by SIGKILL gives 137 and by SIGTERM 143', async () => {
      const driver = h.driver();
      const [kill, term] = await Promise.all([
        runToEnd(driver, h.task(h.taskId('sigkill'), sh('sh -c \'kill -KILL $$\'; exit $?')), h.signal()),
        runToEnd(driver, h.task(h.taskId('sigterm'), sh('sh -c \'kill -TERM $$\'; exit $?')), h.signal()),
      ]);
      expect(kill.status).toMatchObject({ done: true, exitCode: 137 });
      expect(term.status).toMatchObject({ done: true, exitCode: 143 });
    }, h.caseTimeoutMs);

    it('a running task has exitCode null (never invented)', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('running'), ['sleep', '300']), { signal: h.signal() });
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      await container.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it('a command that cannot be executed is not reported as 0', async () => {
      const driver = h.driver();
      const id = h.taskId('no-such-command');
      // Engines differ in when they notice (at start or as exit 126/127): both are honest.
      const outcome = await driver.runContainer(h.task(id, ['/no/such/command']), { signal: h.signal() }).then(
        async (container) => ({ status: await container.wait({ signal: h.signal() }) }),
        (error: unknown) => ({ error }),
      );
      if ('error' in outcome) expect(outcome.error).toBeInstanceOf(Error);
      else expect(outcome.status.done && outcome.status.exitCode !== 0).toBe(true);
    }, h.caseTimeoutMs);
  });
}
