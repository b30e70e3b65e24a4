import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useFramedRunner, type FramedTools } from './framed-run.js';

/**
 * The framed-input wrapper (exec with input below v5, drivers/k8s/stdin-frames.ts) run on
 * this machine by dash with GNU dd, by busybox alone (as in the busybox image), and with a
 * `dd` that has no `iflag` (POSIX's): the command gets exactly its input and then EOF, and
 * its exit code, stdout and stderr are its own. Against clusters: exec-input-profiles.test.ts.
 */

const runFramed = useFramedRunner();

describe.each<{ name: string; tools: FramedTools }>([
  { name: 'dash and GNU dd (iflag=fullblock)', tools: 'host' },
  { name: 'busybox applets alone', tools: 'busybox' },
  { name: 'a dd without iflag (one byte per block)', tools: 'posix-dd' },
])('framed exec input, $name', ({ tools }) => {
  it('binary input in frames reaches the command exactly, then EOF', async () => {
    const input = randomBytes(tools === 'posix-dd' ? 200_000 : 3 * 1024 * 1024 + 7);
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < input.length; offset += 65_536) pieces.push(input.subarray(offset, offset + 65_536));
    const echoed = await runFramed(['cat'], pieces, { tools });
    expect(echoed.exitCode).toBe(0);
    expect(echoed.stdout.equals(input)).toBe(true);
    expect(echoed.stderr).toBe('');
    // The command sees the end where the input ends, and goes on after it.
    const after = await runFramed(['sh', '-c', 'cat; echo "after EOF"'], [Buffer.from('no newline at the end')], { tools });
    expect(after).toEqual({ exitCode: 0, stdout: Buffer.from('no newline at the end' + 'after EOF\n'), stderr: '' });
  });

  it('empty input is EOF at once', async () => {
    const counted = await runFramed(['wc', '-c'], [], { tools });
    expect(counted).toMatchObject({ exitCode: 0, stderr: '' });
    expect(counted.stdout.toString().trim()).toBe('0');
  });

  it('exit codes are the command’s own, a signal’s 128 + n, with nothing added to stderr', async () => {
    const input = [Buffer.from('some input\n')];
    expect(await runFramed(['sh', '-c', 'cat; echo err >&2; exit 3'], input, { tools })).toEqual({ exitCode: 3, stdout: Buffer.from('some input\n'), stderr: 'err\n' });
    // A shell reports a child killed by a signal on its stderr ("Killed"): not here.
    expect(await runFramed(['sh', '-c', 'cat >/dev/null; echo err >&2; kill -9 $$'], input, { tools })).toEqual({ exitCode: 137, stdout: Buffer.alloc(0), stderr: 'err\n' });
    expect(await runFramed(['sh', '-c', 'kill -TERM $$'], input, { tools })).toEqual({ exitCode: 143, stdout: Buffer.alloc(0), stderr: '' });
  });

  it('a command that ends before its input does ends the exec, input still open', async () => {
    expect(await runFramed(['sh', '-c', 'echo early; exit 4'], [Buffer.from('unread')], { end: false, tools })).toEqual({ exitCode: 4, stdout: Buffer.from('early\n'), stderr: '' });
    // One that reads part of it, with more to come that never does.
    const partial = await runFramed(['head', '-c', '3'], [Buffer.from('abcdef')], { end: false, tools });
    expect(partial).toEqual({ exitCode: 0, stdout: Buffer.from('abc'), stderr: '' });
  });

  it('the command is a program from PATH, never one of the shell’s builtins: `exit 3` is not found, as unwrapped', async () => {
    const result = await runFramed(['exit', '3'], [Buffer.from('x')], { end: false, tools });
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain('exit');
  });
});
