import { describe, expect, it } from 'vitest';
import { RECORD_BYTES, TimestampedLines } from '../../drivers/k8s/timestamped-lines.js';
import { CollectingWritable } from '../../src/logs.js';
import { K8S, openDriver, randomId, sh } from './drivers.js';
import { eventually } from '../support/poll.js';

const STAMP = '2024-01-01T00:00:00.5Z ';

describe('k8s follow of newline-less output (timestamped lines)', () => {
  it('10 MB without newline in 100-byte chunks is handled in linear time and delivered progressively', () => {
    const lines = new TimestampedLines();
    const chunk = Buffer.alloc(100, 'a');
    let delivered = lines.push(Buffer.from(STAMP)).length;
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) {
      delivered += lines.push(chunk).length;
      // Never more than the partial-line limit held back.
      if (i % 1000 === 999) expect((i + 1) * 100 - delivered).toBeLessThanOrEqual(RECORD_BYTES);
    }
    delivered += lines.flush().length;
    expect(delivered).toBe(10_000_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a connection dropped mid-line resumes at the record where it was cut: no byte lost or repeated', () => {
    // A kubelet splits a long line into 16 KiB records without newline, each with a timestamp.
    const records = Buffer.concat([
      Buffer.from(STAMP), Buffer.alloc(RECORD_BYTES, 'x'),
      Buffer.from(STAMP), Buffer.alloc(RECORD_BYTES, 'y'),
      Buffer.from('2024-01-01T00:00:00.7Z end\n'),
    ]);
    const next = Buffer.from('2024-01-01T00:00:01Z after\n');
    const lines = new TimestampedLines();
    const first = lines.push(records.subarray(0, 20_000));
    expect(first.toString()).toBe('x'.repeat(RECORD_BYTES));
    expect(lines.resumeFrom).toBe('2024-01-01T00:00:00.5Z');
    lines.reconnect();
    // The server sends again from that timestamp, in other chunk sizes.
    const again: Buffer[] = [];
    for (const piece of [records.subarray(0, 10), records.subarray(10, 25_000), records.subarray(25_000), next]) again.push(lines.push(piece));
    const text = Buffer.concat([first, ...again]).toString();
    expect(text).toBe(`${'x'.repeat(RECORD_BYTES)}${'y'.repeat(RECORD_BYTES)}end\nafter\n`);
  });

  it('a line of exactly one record keeps its newline, also when it arrives in a later chunk', () => {
    const lines = new TimestampedLines();
    const record = Buffer.concat([Buffer.from(STAMP), Buffer.alloc(RECORD_BYTES, 'r')]);
    const text = Buffer.concat([lines.push(record), lines.push(Buffer.from('\n2024-01-01T00:00:01Z b\n'))]).toString();
    expect(text).toBe(`${'r'.repeat(RECORD_BYTES)}\nb\n`);
  });

  it('a follow delivers a long line while the task still runs, before any newline', { timeout: 120_000 }, async () => {
    const driver = openDriver(K8S);
    const signal = AbortSignal.timeout(K8S.budgetMs * 3);
    const container = await driver.runContainer({ id: randomId('long'), image: 'busybox', command: sh("head -c 200000 /dev/zero | tr '\\0' a; sleep 300") }, { signal });
    const stdout = new CollectingWritable();
    const controller = new AbortController();
    const following = container.logs({ stdout, follow: true, signal: AbortSignal.any([signal, controller.signal]) }).catch(() => undefined);
    await eventually(async () => stdout.text().length >= 200_000 - RECORD_BYTES, 60_000, 'the long line to arrive without its newline');
    expect((await container.status({ signal })).done).toBe(false);
    const text = stdout.text();
    expect(text.replace(/a/g, ''), 'only the long line, nothing repeated or foreign').toBe('');
    controller.abort();
    await following;
  });
});
