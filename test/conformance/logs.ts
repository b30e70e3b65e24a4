import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { Harness } from './harness.js';
import { expectOutput, readOutput, runToEnd, sh } from './helpers.js';
import { eventually } from '../support/poll.js';

/** Output is kept per stream, can be followed live, and read again after exit. */
export function logCases(h: Harness): void {
  describe('logs', () => {
    it('stdout and stderr are kept apart (or, where the engine cannot, combined in stdout)', async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('streams'), sh('echo out1; echo err1 >&2; echo out2; echo err2 >&2')), h.signal());
      expectOutput(result, 'out1\nout2\n', 'err1\nerr2\n');
    }, h.caseTimeoutMs);

    it('follow started right after runContainer sees every line in order and resolves by itself after exit', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('follow'), sh('echo line1; sleep .1; echo line2; sleep .1; echo line3')), { signal: h.signal() });
      const { stdout } = await readOutput(container, h.signal(), true);
      expect(stdout).toBe('line1\nline2\nline3\n');
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
    }, h.caseTimeoutMs);

    it('follow delivers output while the task still runs', async () => {
      // The task waits for stdin that is only sent once its first line was followed: a driver
      // that delivers output only at exit never gets there.
      const stdin = new PassThrough();
      const container = await h.driver().runContainer(h.task(h.taskId('live'), sh('echo ready; read x; echo "after $x"'), { stdin }), { signal: h.signal() });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal: h.signal() });
      await eventually(async () => (stdout.text().includes('ready') ? true : undefined), h.scaled(15_000), 'the first line while following');
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      stdin.end('go\n');
      await following;
      expect(stdout.text()).toBe('ready\nafter go\n');
    }, h.caseTimeoutMs);

    it('logs without follow are repeatable after exit', async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('repeat'), sh('echo a; echo b >&2')), h.signal());
      const again = await readOutput(result.container, h.signal());
      expectOutput(again, 'a\n', 'b\n');
      expect(await readOutput(result.container, h.signal())).toEqual(again);
    }, h.caseTimeoutMs);

    it('logs of a running task give the output so far and resolve', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('so-far'), sh('echo first; sleep 300')), { signal: h.signal() });
      const seen = await eventually(async () => {
        const { stdout } = await readOutput(container, h.signal());
        return stdout.includes('first') ? stdout : undefined;
      }, h.scaled(15_000), 'the first line of a running task');
      expect(seen).toBe('first\n');
      expect(await container.status({ signal: h.signal() })).toMatchObject({ done: false, exitCode: null });
      await container.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);
  });
}
