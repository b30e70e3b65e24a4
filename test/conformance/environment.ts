import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { runToEnd, sh } from './helpers.js';

/** The task sees exactly its own variables. */
export function environmentCases(h: Harness): void {
  describe('environment', () => {
    it('values with newlines, quotes and unicode arrive intact', async () => {
      // `$(NAME)` and `$$` are expanded by Kubernetes unless escaped: they must arrive as written.
      const env = { MULTI: 'line1\nline2\n', QUOTED: `it's "quoted" $HOME $(HOME) $$ \\n`, UNICODE: 'héllo wörld ✓ 日本語 🚀', EMPTY: '' };
      const script = 'printf "%s|%s|%s|%s|" "$MULTI" "$QUOTED" "$UNICODE" "${EMPTY-unset}"';
      const result = await runToEnd(h.driver(), h.task(h.taskId('env'), sh(script), { env }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe(`${env.MULTI}|${env.QUOTED}|${env.UNICODE}||`);
    }, h.caseTimeoutMs);

    it('command arguments reach the process verbatim: no shell, no variable expansion', async () => {
      const args = ['$HOME', '$(HOME)', '$$', '${PATH}', "it's", '"q"', '*', '日本 ✓', ''];
      const result = await runToEnd(h.driver(), h.task(h.taskId('argv'), ['printf', '[%s]', ...args], { env: { HOME: '/nowhere' } }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe(args.map((a) => `[${a}]`).join(''));
    }, h.caseTimeoutMs);

    it("none of the host's variables leak into the task", async () => {
      const marker = `DRIVETRAIN_CONFORMANCE_MARKER_${randomBytes(4).toString('hex').toUpperCase()}`;
      process.env[marker] = 'leaked';
      try {
        const result = await runToEnd(h.driver(), h.task(h.taskId('env-host'), ['env'], { env: { OWN: 'mine' } }), h.signal());
        expect(result.status).toMatchObject({ done: true, exitCode: 0 });
        expect(result.stdout).toContain('OWN=mine');
        expect(result.stdout).not.toContain(marker);
        expect(result.stdout).not.toContain('leaked');
      } finally {
        delete process.env[marker];
      }
    }, h.caseTimeoutMs);
  });
}
