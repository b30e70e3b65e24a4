import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { Container } from '../../src/types.js';
import type { Harness } from './harness.js';
import { sh } from './helpers.js';

/** Every byte value 0–255 in order: NUL, CR, invalid UTF-8 (0x80–0xff alone) included. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A shell `printf` format that prints `bytes` exactly: every byte as an octal escape. */
export function printfFormat(bytes: Buffer): string {
  return Array.from(bytes, (b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

const MIB = 1024 * 1024;

/** A line of `length` bytes `x` (no newline), made in the task by head and tr. */
function longLine(length: number): string {
  return `head -c ${length} /dev/zero | tr '\\000' x`;
}

/** The output of `container` as bytes, plain or followed. */
async function outputBytes(container: Container, signal: AbortSignal, follow: boolean): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  await container.logs({ stdout, stderr, follow, signal });
  return { stdout: stdout.buffer(), stderr: stderr.buffer() };
}

/** Compares without printing megabytes when they differ. */
function expectSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let at = 0;
  while (at < Math.min(actual.length, expected.length) && actual[at] === expected[at]) at += 1;
  const around = (b: Buffer): string => b.subarray(Math.max(0, at - 8), at + 8).toString('hex');
  expect.fail(`${what}: ${actual.length} bytes where ${expected.length} were written; first difference at byte ${at} (got ${around(actual)}, expected ${around(expected)})`);
}

/**
 * Output is data: the process's bytes come back unchanged, whichever way they are read
 * (followed from the start, or read after the end, again and again), the last byte included.
 */
export function outputBytesCases(h: Harness): void {
  describe('output bytes', () => {
    const cases: Array<{ name: string; script: string; stdout: Buffer; stderr: Buffer }> = [
      {
        name: 'all 256 byte values, NUL, CR and invalid UTF-8, without a final newline, on both streams',
        script: `printf '${printfFormat(ALL_BYTES)}'; printf '${printfFormat(Buffer.from('\r\nerr\0\xff\xfe', 'latin1'))}' >&2`,
        stdout: ALL_BYTES,
        stderr: Buffer.from('\r\nerr\0\xff\xfe', 'latin1'),
      },
      {
        name: 'lines of 1 MiB: with a newline followed by more output, and the last one without a newline',
        script: `${longLine(MIB)}; echo; printf 'between\\n'; ${longLine(MIB)}; ${longLine(MIB)} >&2; echo >&2`,
        stdout: Buffer.concat([Buffer.alloc(MIB, 'x'), Buffer.from('\nbetween\n'), Buffer.alloc(MIB, 'x')]),
        stderr: Buffer.concat([Buffer.alloc(MIB, 'x'), Buffer.from('\n')]),
      },
      {
        name: 'a line of 40000 bytes (not a multiple of 16 KiB) ends with its newline before more output',
        script: `${longLine(40_000)}; echo; printf end`,
        stdout: Buffer.concat([Buffer.alloc(40_000, 'x'), Buffer.from('\nend')]),
        stderr: Buffer.alloc(0),
      },
    ];

    for (const c of cases) {
      it(`${c.name}: followed from the start and read twice after the end`, async () => {
        const container = await h.driver().runContainer(h.task(h.taskId('bytes'), sh(c.script)), { signal: h.signal() });
        const followed = await outputBytes(container, h.signal(), true);
        expect(await container.wait({ signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
        expectSameBytes(followed.stdout, c.stdout, 'followed stdout');
        expectSameBytes(followed.stderr, c.stderr, 'followed stderr');
        for (const read of ['first', 'second']) {
          const plain = await outputBytes(container, h.signal(), false);
          expectSameBytes(plain.stdout, c.stdout, `${read} plain read of stdout`);
          expectSameBytes(plain.stderr, c.stderr, `${read} plain read of stderr`);
        }
      }, h.caseTimeoutMs);
    }

    it('the last line arrives: output written just before the exit, without a newline, ends a follow', async () => {
      const container = await h.driver().runContainer(h.task(h.taskId('last'), sh("seq 1 2000; printf 'last line, no newline'; printf 'and stderr' >&2")), { signal: h.signal() });
      const followed = await outputBytes(container, h.signal(), true);
      const expected = `${Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('')}last line, no newline`;
      expect(followed.stdout.toString('latin1')).toBe(expected);
      expect(followed.stderr.toString('latin1')).toBe('and stderr');
    }, h.caseTimeoutMs);

    it('20 MB without a newline are followed to the last byte', async () => {
      const size = 20_000_000;
      const container = await h.driver().runContainer(h.task(h.taskId('flood'), sh(`${longLine(size)}`)), { signal: h.signal() });
      const followed = await outputBytes(container, h.signal(), true);
      expect(followed.stdout.length).toBe(size);
      expect(followed.stdout.every((b) => b === 0x78)).toBe(true);
    }, h.caseTimeoutMs);

    const sandboxes = h.capabilities.startSandbox;
    it.skipIf(!sandboxes)(`a sandbox exec's output, every byte value on both streams, and the reopened standard streams${sandboxes ? '' : ' (not run: capabilities.startSandbox is false)'}`, async () => {
      const sandbox = await h.driver().startSandbox!({ id: h.taskId('exec-bytes'), image: h.image }, { signal: h.signal() });
      const stdout = new CollectingWritable();
      const stderr = new CollectingWritable();
      const script = `printf '${printfFormat(ALL_BYTES)}'; printf '${printfFormat(ALL_BYTES.subarray(128))}' >&2; cat < /dev/stdin > /dev/stdout; printf err > /dev/stderr`;
      const status = await sandbox.exec(sh(script), { stdin: 'in', stdout, stderr, signal: h.signal() });
      expect(status).toMatchObject({ done: true, exitCode: 0 });
      expectSameBytes(stdout.buffer(), Buffer.concat([ALL_BYTES, Buffer.from('in')]), 'exec stdout');
      expectSameBytes(stderr.buffer(), Buffer.concat([ALL_BYTES.subarray(128), Buffer.from('err')]), 'exec stderr');
      await sandbox.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it('stdin, stdout and stderr can be reopened through /dev/stdin, /dev/stdout and /dev/stderr', async () => {
      const script = 'cat < /dev/stdin; printf out > /dev/stdout; printf err > /dev/stderr; printf " more"; printf " more" >&2';
      const container = await h.driver().runContainer(h.task(h.taskId('reopen'), sh(script), { stdin: 'hello' }), { signal: h.signal() });
      const status = await container.wait({ signal: h.signal() });
      const { stdout, stderr } = await outputBytes(container, h.signal(), false);
      expect({ status, stdout: stdout.toString('latin1'), stderr: stderr.toString('latin1') }).toEqual({
        status: expect.objectContaining({ done: true, exitCode: 0 }),
        stdout: 'helloout more',
        stderr: 'err more',
      });
    }, h.caseTimeoutMs);
  });
}
