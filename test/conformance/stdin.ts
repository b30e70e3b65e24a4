import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { runToEnd, sh } from './helpers.js';

/** Standard input in every accepted form reaches the task, ending in EOF. */
export function stdinCases(h: Harness): void {
  describe('stdin', () => {
    it('a string reaches cat', async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('stdin-text'), sh('cat'), { stdin: 'hello' }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toContain('hello');
    }, h.caseTimeoutMs);

    it('10 MB of random bytes arrive intact (checksum)', async () => {
      const chunk = 64 * 1024;
      const chunks = Array.from({ length: 160 }, () => randomBytes(chunk));
      const expected = createHash('md5');
      for (const c of chunks) expected.update(c);
      const result = await runToEnd(
        h.driver(),
        h.task(h.taskId('stdin-large'), ['md5sum'], { stdin: Readable.from(chunks) }),
        h.signal(),
      );
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout.split(/\s/)[0]).toBe(expected.digest('hex'));
    }, h.caseTimeoutMs);

    it('without stdin, cat sees EOF at once and ends with 0', async () => {
      const started = Date.now();
      const result = await runToEnd(h.driver(), h.task(h.taskId('stdin-none'), ['cat']), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(h.scaled(15_000));
    }, h.caseTimeoutMs);

    it('a Readable of several chunks arrives in order', async () => {
      const stdin = Readable.from([Buffer.from('one\n'), Buffer.from('two\n'), Buffer.from('three\n')]);
      const result = await runToEnd(h.driver(), h.task(h.taskId('stdin-readable'), ['cat'], { stdin }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('one\ntwo\nthree\n');
    }, h.caseTimeoutMs);

    it('an async iterable of bytes arrives in order', async () => {
      async function* lines(): AsyncGenerator<Uint8Array> {
        for (const line of ['alpha\n', 'beta\n', 'gamma\n']) {
          await new Promise((resolve) => setImmediate(resolve));
          yield new TextEncoder().encode(line);
        }
      }
      const result = await runToEnd(h.driver(), h.task(h.taskId('stdin-iterable'), ['cat'], { stdin: lines() }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('alpha\nbeta\ngamma\n');
    }, h.caseTimeoutMs);

    it('a Uint8Array with arbitrary bytes arrives intact', async () => {
      const bytes = new Uint8Array([0, 1, 2, 255, 254, 10, 13, 0]);
      const expected = createHash('md5').update(bytes).digest('hex');
      const result = await runToEnd(h.driver(), h.task(h.taskId('stdin-bytes'), ['md5sum'], { stdin: bytes }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout.split(/\s/)[0]).toBe(expected);
    }, h.caseTimeoutMs);
  });
}
