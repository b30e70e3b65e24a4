import { describe, expect, it } from 'vitest';
import { defaultWorkDir, taskDirName } from '../../src/names.js';
import type { Harness } from './harness.js';
import { expectTaskPath, runToEnd, sh } from './helpers.js';

/** Each task starts in its own writable scratch directory, or in the one it asked for. */
export function workDirCases(h: Harness): void {
  const inContainer = h.capabilities.enforces.image;
  describe('workDir', () => {
    it('the default workDir is per task and writable', async () => {
      const driver = h.driver();
      // An ID that needs sanitising: the directory name must still be derived from it.
      const ids = [`Work Dir/${h.taskId('A')}`, h.taskId('wd-b')];
      const [a, b] = await Promise.all(ids.map((id) => runToEnd(driver, h.task(id, sh('pwd; touch x && ls x')), h.signal())));
      for (const [i, result] of [a!, b!].entries()) {
        expect(result.status).toMatchObject({ done: true, exitCode: 0 });
        const [pwd, listed] = result.stdout.split('\n');
        expect(listed).toBe('x');
        expect(pwd?.endsWith(`/${taskDirName(ids[i]!)}`)).toBe(true);
      }
      expect(a!.stdout.split('\n')[0]).not.toBe(b!.stdout.split('\n')[0]);
    }, h.caseTimeoutMs);

    it.skipIf(!inContainer)(
      `the default workDir is /tmp/drivetrain/<task dir name>${inContainer ? '' : ' (not run: a host-process driver keeps scratch directories under its own root)'}`,
      async () => {
        const id = `Exact WorkDir ${h.taskId('x')}`;
        const result = await runToEnd(h.driver(), h.task(id, ['pwd']), h.signal());
        expect(result.stdout.trim()).toBe(defaultWorkDir(id));
      },
      h.caseTimeoutMs,
    );

    it('an explicit absolute workDir is honoured (created when missing)', async () => {
      const workDir = `/tmp/drivetrain-conformance/${h.taskId('wd')}/deeper`;
      const result = await runToEnd(h.driver(), h.task(h.taskId('explicit'), sh('pwd; touch y && ls y'), { workDir }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      const [pwd, listed] = result.stdout.split('\n');
      expectTaskPath(pwd, workDir, inContainer);
      expect(listed).toBe('y');
    }, h.caseTimeoutMs);
  });
}
