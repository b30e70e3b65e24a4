import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { ExecOptions, Sandbox } from '../../src/types.js';
import type { Harness } from './harness.js';
import { expectTaskPath } from './helpers.js';

/** A sandbox runs several commands in one filesystem; per-call settings do not leak. */
export function sandboxCases(h: Harness): void {
  const supported = h.capabilities.startSandbox;
  const title = (text: string): string => `${text}${supported ? '' : ' (not run: capabilities.startSandbox is false)'}`;
  const start = async (prefix: string): Promise<Sandbox> => h.driver().startSandbox!({ id: h.taskId(prefix), image: h.image }, { signal: h.signal() });
  const exec = async (sandbox: Sandbox, command: readonly string[], options: ExecOptions = {}): Promise<{ exitCode: number | null; stdout: string; stderr: string }> => {
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const status = await sandbox.exec(command, { ...options, stdout, stderr, signal: h.signal() });
    expect(status.done).toBe(true);
    return { exitCode: status.exitCode, stdout: stdout.text(), stderr: stderr.text() };
  };

  describe('sandbox', () => {
    it.skipIf(!supported)(title('two execs share a filesystem'), async () => {
      const sandbox = await start('share');
      expect(await exec(sandbox, ['sh', '-c', 'printf shared > file && mkdir -p dir && printf nested > dir/f'])).toMatchObject({ exitCode: 0 });
      expect(await exec(sandbox, ['sh', '-c', 'cat file dir/f'])).toEqual({ exitCode: 0, stdout: 'sharednested', stderr: '' });
      await sandbox.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('env and workDir apply to one exec only'), async () => {
      const sandbox = await start('per-call');
      const script = 'printf "%s|%s" "${FOO-unset}" "$(pwd)"';
      const first = await exec(sandbox, ['sh', '-c', script], { env: { FOO: 'bar' }, workDir: '/tmp' });
      expect(first.exitCode).toBe(0);
      const [firstFoo, firstPwd] = first.stdout.split('|');
      expect(firstFoo).toBe('bar');
      expectTaskPath(firstPwd, '/tmp', h.capabilities.enforces.image);
      const second = await exec(sandbox, ['sh', '-c', script]);
      expect(second.exitCode).toBe(0);
      const [foo, pwd] = second.stdout.split('|');
      expect(foo).toBe('unset');
      expect(pwd).not.toBe(firstPwd);
      expect(pwd).toMatch(/^\//);
      const relative = await exec(sandbox, ['sh', '-c', 'mkdir -p sub; cd sub && pwd'], {});
      expect(await exec(sandbox, ['pwd'], { workDir: 'sub' })).toMatchObject({ exitCode: 0, stdout: relative.stdout });
      await sandbox.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('exit 42 is a status of 42, not an exception'), async () => {
      const sandbox = await start('exit');
      expect(await exec(sandbox, ['sh', '-c', 'echo out; echo err >&2; exit 42'])).toEqual({ exitCode: 42, stdout: 'out\n', stderr: 'err\n' });
      expect(await exec(sandbox, ['true'])).toMatchObject({ exitCode: 0 });
      await sandbox.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('stdin reaches an exec, and its absence is EOF'), async () => {
      const sandbox = await start('stdin');
      expect(await exec(sandbox, ['cat'], { stdin: 'to the sandbox' })).toMatchObject({ exitCode: 0, stdout: 'to the sandbox' });
      expect(await exec(sandbox, ['cat'])).toMatchObject({ exitCode: 0, stdout: '' });
      await sandbox.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('cleanup succeeds twice and is quick'), async () => {
      const sandbox = await start('cleanup');
      const started = Date.now();
      await sandbox.cleanup({ signal: h.signal() });
      await sandbox.cleanup({ signal: h.signal() });
      expect(Date.now() - started).toBeLessThan(h.scaled(15_000));
      // The sandbox is gone: an exec may reject or report that nothing ran, but never succeed.
      const after = await sandbox.exec(['true'], { signal: h.signal() }).then(
        (status) => status.exitCode,
        () => 'rejected',
      );
      expect(after).not.toBe(0);
    }, h.caseTimeoutMs);
  });
}
