import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { finish, openDriver } from './helpers.js';

describe('docker driver: stdin', () => {
  it('streams 10 MB of stdin through cat and back out of the logs, byte for byte', async () => {
    const driver = openDriver();
    // Text, not random bytes: Docker's json-file log driver stores lines as UTF-8 and would mangle invalid sequences.
    const line = (): string => `${randomBytes(31).toString('hex')}\n`;
    const chunk = Buffer.from(Array.from({ length: 1024 }, line).join(''));
    const chunks = 160; // 160 × 64 KiB = 10 MiB
    const expected = createHash('sha256');
    let produced = 0;
    const stdin = new Readable({
      read() {
        if (produced === chunks) return void this.push(null);
        produced++;
        expected.update(chunk);
        this.push(chunk);
      },
    });
    const container = await driver.runContainer({ id: 'big-stdin', image: 'busybox', command: ['cat'], stdin });
    const status = await container.wait({ signal: AbortSignal.timeout(60_000) });
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    const actual = createHash('sha256');
    let length = 0;
    const stdout = new Writable({
      write(data: Buffer, _encoding, callback) {
        actual.update(data);
        length += data.length;
        callback();
      },
    });
    await container.logs({ stdout, signal: AbortSignal.timeout(60_000) });
    expect(length).toBe(chunks * chunk.length);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
  }, 120_000);

  it('without stdin the task sees EOF at once (cat ends immediately)', async () => {
    const driver = openDriver();
    const started = Date.now();
    const { status, stdout } = await finish(await driver.runContainer({ id: 'no-stdin', image: 'busybox', command: ['cat'] }));
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    expect(stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a process that stops reading early is not an error', async () => {
    const driver = openDriver();
    const { status, stdout } = await finish(await driver.runContainer({ id: 'head', image: 'busybox', command: ['head', '-c', '5'], stdin: 'x'.repeat(1_000_000) }));
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    expect(stdout).toBe('xxxxx');
  });
});
