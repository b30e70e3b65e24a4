import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { DockerFrames, type Frame } from './frames.js';

/** Lines are written to the response once this many bytes were gathered... */
const BATCH_BYTES = 64 * 1024;
/** ...or this many ms after the first of them was read (the latency a follow adds). */
const GATHER_MS = 5;

/** How long to wait before asking `next` again after a source that brought no record, in ms. */
const IDLE_RETRY_MS = 100;

/** Where a log read got to: the timestamp text of the last record and how many records had it. */
export interface LogPosition {
  stamp: string;
  count: number;
}

/** What a pump does with each record: the bytes to send (timestamp kept or cut), or undefined to drop it. */
export type RecordFilter = (frame: Frame) => Buffer | undefined;

/**
 * When a source ends: the next source to read from the given position on, or undefined when
 * the log is complete. Lets a follow that Docker ended early go on (see servePodLog).
 */
export type NextSource = (position: LogPosition | undefined) => Promise<Readable | undefined>;

/**
 * Writes Docker log records (read with timestamps) to a pods/log response: in batches, not one
 * write (one TLS record, one HTTP chunk) per line as Docker sends them, and no faster than the
 * client reads (back-pressure), so a large log streams at Docker's pace with bounded memory.
 * Records are passed through `filter`; `limitBytes` cuts the answer exactly. When a source ends,
 * `next` may give another one that starts at the last record passed on (same timestamp: the
 * records already seen with it are skipped), so nothing is repeated or lost across sources.
 */
export class LogPump {
  private written = 0;
  private full = false;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private gathering: NodeJS.Timeout | undefined;
  private source: Readable | undefined;
  private position: LogPosition | undefined;
  /** Records of a continuation still to skip: those at `position.stamp` already passed on. */
  private skip = 0;
  private finished = false;
  /** Records read so far, from every source. */
  private records = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly tty: boolean,
    private readonly filter: RecordFilter,
    private readonly limitBytes: number | undefined,
    private readonly next: NextSource,
  ) {
    res.on('close', () => this.finish());
    res.on('drain', () => this.source?.resume());
  }

  /** Starts with the first source: writes the 200 head and pumps until the log is complete or the client leaves. */
  start(source: Readable): void {
    if (this.res.destroyed) return void source.destroy(); // the client left while Docker was asked
    this.res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    this.res.flushHeaders();
    this.pump(source);
  }

  private pump(source: Readable): void {
    if (this.finished) return void source.destroy();
    this.source = source;
    const frames = new DockerFrames(this.tty, (frame) => this.record(frame));
    this.skip = this.position?.count ?? 0;
    source.on('data', (chunk: Buffer) => {
      frames.push(chunk);
      if (this.full) return this.finish();
      if (this.batchBytes >= BATCH_BYTES) this.write();
      else if (this.gathering === undefined && this.batchBytes > 0) this.gathering = setTimeout(() => this.write(), GATHER_MS).unref();
    });
    let ended = false;
    const before = this.records;
    // However the source ends (end, an aborted connection, close), the rest is asked of `next`.
    const end = () => {
      if (ended || this.source !== source) return;
      ended = true;
      frames.flush();
      if (this.full || this.finished) return this.finish();
      // A source that brought nothing new is not asked again at once.
      const pause = this.records === before ? new Promise((resolve) => setTimeout(resolve, IDLE_RETRY_MS).unref()) : Promise.resolve();
      pause
        .then(() => (this.finished ? undefined : this.next(this.position)))
        .then(
          (following) => (following ? this.pump(following) : this.finish()),
          () => this.finish(),
        );
    };
    source.on('end', end);
    source.on('error', end);
    source.on('close', end);
  }

  private record(frame: Frame): void {
    if (this.full) return;
    const space = frame.data.indexOf(0x20);
    const stamp = frame.data.toString('latin1', 0, Math.max(0, space));
    if (this.skip > 0 && stamp === this.position?.stamp) {
      this.skip -= 1;
      return;
    }
    this.skip = 0;
    this.records += 1;
    this.position = this.position?.stamp === stamp ? { stamp, count: this.position.count + 1 } : { stamp, count: 1 };
    let line = this.filter(frame);
    if (line === undefined) return;
    if (this.limitBytes !== undefined) {
      line = line.subarray(0, this.limitBytes - this.written);
      this.full = this.written + line.length >= this.limitBytes;
    }
    if (line.length === 0) return;
    this.written += line.length;
    this.batch.push(line);
    this.batchBytes += line.length;
  }

  private flushBatch(): boolean {
    if (this.batchBytes === 0 || this.res.writableEnded || this.res.destroyed) return true;
    const data = this.batch.length === 1 ? (this.batch[0] as Buffer) : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    return this.res.write(data);
  }

  private write(): void {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    if (!this.flushBatch()) this.source?.pause();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.gathering);
    this.source?.destroy();
    if (!this.res.writableEnded) {
      this.flushBatch();
      this.res.end();
    }
  }
}
