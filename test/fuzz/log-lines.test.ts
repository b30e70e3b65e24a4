import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demuxTo } from '../../drivers/docker/demux.js';
import { RECORD_BYTES, TimestampedLines } from '../../drivers/k8s/timestamped-lines.js';
import { DockerFrames, type Frame } from '../k8s-server/node/streams/frames.js';
import { checkProperty } from './budget.js';

/** `bytes` cut at the given offsets (any order, duplicates and out-of-range ones ignored). */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) pieces.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return pieces;
}

const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** Output bytes of a line: anything but a newline, mostly short, sometimes around the record size. */
const lineContent = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(RECORD_BYTES - 1, RECORD_BYTES, RECORD_BYTES + 1, 2 * RECORD_BYTES), fc.integer({ min: 0, max: 255 })).map(([n, b]) => new Uint8Array(n).fill(b)) },
).map((bytes) => Buffer.from(bytes.map((b) => (b === 10 ? 32 : b))));

/** A log: lines, the last one perhaps without its newline. */
const logLines = fc.tuple(fc.array(lineContent, { maxLength: 8 }), fc.boolean()).map(([lines, lastEnds]) => ({ lines, lastEnds: lastEnds || lines.length === 0 }));

/** A record of `timestamps=true` output: one timestamp, content, and the newline that ends the line if it does. */
interface LogRecord {
  stamp: string;
  content: Buffer;
  newline: boolean;
}

/** Lines as a kubelet or Docker writes them with timestamps: long lines in records of {@link RECORD_BYTES}, each with its own timestamp. */
function toRecords({ lines, lastEnds }: { lines: Buffer[]; lastEnds: boolean }, stamps: readonly string[]): LogRecord[] {
  const records: LogRecord[] = [];
  lines.forEach((line, i) => {
    const newline = i < lines.length - 1 || lastEnds;
    for (let at = 0; at === 0 || at < line.length; at += RECORD_BYTES) {
      const content = line.subarray(at, at + RECORD_BYTES);
      const last = at + RECORD_BYTES >= line.length;
      records.push({ stamp: stamps[Math.min(records.length, stamps.length - 1)] as string, content, newline: last && newline });
    }
  });
  return records;
}

const serialise = (records: readonly LogRecord[]): Buffer => Buffer.concat(records.flatMap((r) => [Buffer.from(`${r.stamp} `), r.content, r.newline ? Buffer.from('\n') : Buffer.alloc(0)]));
const expected = (records: readonly LogRecord[]): Buffer => Buffer.concat(records.flatMap((r) => [r.content, r.newline ? Buffer.from('\n') : Buffer.alloc(0)]));

/** Non-decreasing RFC 3339 timestamps, as Docker and kubelets print them (trailing fraction zeros dropped). */
const stamps = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 64, maxLength: 64 }).map((steps) => {
  let nanos = 1_000_000_000 * 1_700_000_000;
  return steps.map((step) => {
    nanos += [0, 1, 250_000_000, 1_000_000_000][step] as number;
    const seconds = Math.floor(nanos / 1e9);
    const fraction = String(nanos % 1e9).padStart(9, '0').replace(/0+$/, '');
    return `${new Date(seconds * 1000).toISOString().slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
  });
});

function feed(parser: TimestampedLines, pieces: readonly Buffer[]): Buffer {
  return Buffer.concat(pieces.map((piece) => parser.push(piece)));
}

describe('k8s timestamped log lines', () => {
  it('deliver every byte of every line once, however the stream is cut into chunks', async () => {
    await checkProperty('log lines: k8s timestamped parser, any chunking', 'pure', fc.property(logLines, stamps, cuts, (log, times, offsets) => {
      const records = toRecords(log, times);
      const parser = new TimestampedLines();
      const out = Buffer.concat([feed(parser, cut(serialise(records), offsets)), parser.flush()]);
      return out.equals(expected(records));
    }));
  });

  it('deliver every line exactly once across a reconnect that resumes from the last timestamp (or its whole second)', async () => {
    await checkProperty('log lines: k8s reconnect de-duplication', 'pure', fc.property(logLines, stamps, fc.nat(), fc.boolean(), cuts, (log, times, dropAt, wholeSecond, offsets) => {
      const records = toRecords(log, times);
      const bytes = serialise(records);
      const parser = new TimestampedLines();
      // The first connection breaks off anywhere; a partial record is sent again.
      const first = feed(parser, cut(bytes.subarray(0, dropAt % (bytes.length + 1)), offsets));
      parser.reconnect();
      const since = parser.resumeFrom;
      const from = since === undefined ? '' : wholeSecond ? `${since.slice(0, 19)}Z` : since;
      // The server sends again every record at or after `sinceTime` (compared as instants).
      const again = records.filter((r) => since === undefined || instant(r.stamp) >= instant(from));
      const second = Buffer.concat([feed(parser, cut(serialise(again), offsets)), parser.flush()]);
      return Buffer.concat([first, second]).equals(expected(records));
    }));
  });
});

/** A timestamp as a sortable string of nanoseconds. */
function instant(stamp: string): string {
  const [seconds, fraction = ''] = stamp.replace('Z', '').split('.');
  return `${seconds}.${fraction.padEnd(9, '0')}`;
}

/** Docker's multiplexed frames: type byte, three zero bytes, big-endian length, payload. */
const frames = fc.array(fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.uint8Array({ maxLength: 64 })), { maxLength: 10 });

function multiplex(list: ReadonlyArray<[number, Uint8Array]>): Buffer {
  return Buffer.concat(
    list.flatMap(([type, payload]) => {
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return [header, Buffer.from(payload)];
    }),
  );
}

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function demux(pieces: readonly Buffer[]): Promise<{ stdout: Buffer; stderr: Buffer; error?: Error }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const writable = demuxTo(stdout, stderr);
  const done = new Promise<Error | undefined>((resolve) => {
    writable.on('finish', () => resolve(undefined));
    writable.on('error', (error: Error) => resolve(error));
  });
  for (const piece of pieces) writable.write(piece);
  writable.end();
  const error = await done;
  return { stdout: stdout.bytes, stderr: stderr.bytes, ...(error === undefined ? {} : { error }) };
}

const payloadsOf = (list: ReadonlyArray<[number, Uint8Array]>, type: number): Buffer => Buffer.concat(list.filter(([t]) => t === type).map(([, p]) => Buffer.from(p)));

describe('Docker multiplexed streams', () => {
  it('driver: stdout and stderr get exactly their frames\' bytes, however the stream is cut', async () => {
    await checkProperty('log lines: docker demux, any chunking', 'stream', fc.asyncProperty(frames, cuts, async (list, offsets) => {
      const { stdout, stderr, error } = await demux(cut(multiplex(list), offsets));
      return error === undefined && stdout.equals(payloadsOf(list, 1)) && stderr.equals(payloadsOf(list, 2));
    }));
  });

  it('driver: a stream that ends inside a frame fails instead of dropping the rest silently', async () => {
    await checkProperty('log lines: docker demux, truncated stream', 'stream', fc.asyncProperty(frames.filter((l) => l.length > 0), fc.nat(), async (list, at) => {
      const bytes = multiplex(list);
      const boundaries = new Set([0]);
      let offset = 0;
      for (const [, payload] of list) boundaries.add((offset += 8 + payload.length));
      const end = at % (bytes.length + 1);
      const { error } = await demux([bytes.subarray(0, end)]);
      return boundaries.has(end) ? error === undefined : error !== undefined;
    }));
  });

  it('local server: DockerFrames gives the same frames however the stream is cut', async () => {
    await checkProperty('log lines: local server DockerFrames, any chunking', 'pure', fc.property(frames, cuts, (list, offsets) => {
      const got: Frame[] = [];
      const parser = new DockerFrames(false, (frame) => got.push({ stream: frame.stream, data: Buffer.from(frame.data) }));
      for (const piece of cut(multiplex(list), offsets)) parser.push(piece);
      parser.flush();
      // Type 2 is stderr; every other type is read as stdout, as Docker's own stdcopy does for 0 and 1.
      const want = list.map(([type, payload]) => ({ stream: type === 2 ? 2 : 1, data: Buffer.from(payload) }));
      return got.length === want.length && got.every((frame, i) => frame.stream === want[i]?.stream && frame.data.equals(want[i].data));
    }));
  });

  it('local server: TTY log records lose and change no byte, and are the same however the stream is cut', async () => {
    await checkProperty('log lines: local server TTY records, any chunking', 'pure', fc.property(logLines, stamps, cuts, (log, times, offsets) => {
      const bytes = serialise(toRecords(log, times));
      const framesOf = (pieces: Buffer[]): Buffer[] => {
        const got: Buffer[] = [];
        const parser = new DockerFrames(true, (frame) => got.push(Buffer.from(frame.data)));
        for (const piece of pieces) parser.push(piece);
        parser.flush();
        return got;
      };
      const whole = framesOf([bytes]);
      const pieces = framesOf(cut(bytes, offsets));
      return Buffer.concat(whole).equals(bytes) && whole.length === pieces.length && whole.every((frame, i) => frame.equals(pieces[i] as Buffer));
    }));
  });
});

describe('regressions', () => {
  it('a record of exactly the record size followed by its newline is one line', () => {
    const parser = new TimestampedLines();
    const content = Buffer.alloc(RECORD_BYTES, 0x61);
    const out = Buffer.concat([parser.push(Buffer.concat([Buffer.from('2024-01-01T00:00:00Z '), content, Buffer.from('\n2024-01-01T00:00:01Z b\n')])), parser.flush()]);
    expect(out.equals(Buffer.concat([content, Buffer.from('\nb\n')]))).toBe(true);
  });
});
