import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import { openDriver } from './helpers.js';

describe('docker driver: logs', () => {
  it('a slow destination gets every byte: the log stream waits for it to drain', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'many-lines', image: 'busybox', command: ['sh', '-c', 'seq 1 20000'] });
    await container.wait({ signal: AbortSignal.timeout(30_000) });
    let writes = 0;
    const received: Buffer[] = [];
    // highWaterMark 1 and a callback deferred to the next tick: write() always asks for backpressure.
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        writes++;
        received.push(chunk);
        setImmediate(callback);
      },
    });
    await container.logs({ stdout: slow, signal: AbortSignal.timeout(30_000) });
    const lines = Buffer.concat(received).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toBe('20000');
    expect(writes).toBeGreaterThan(0);
    expect(slow.writableEnded).toBe(false);
  });

  it('stdout and stderr stay apart, and the logs can be read again after exit', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'split', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2; echo out2'] });
    await container.wait({ signal: AbortSignal.timeout(30_000) });
    for (let i = 0; i < 2; i++) {
      const stdout = new CollectingWritable();
      const stderr = new CollectingWritable();
      await container.logs({ stdout, stderr });
      expect(stdout.text()).toBe('out\nout2\n');
      expect(stderr.text()).toBe('err\n');
    }
  });
});
