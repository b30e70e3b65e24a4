import { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_RECORD_CONTENT, nowNanos, rfc3339Nano, type CriStream } from './cri-format.js';

const NEWLINE = 0x0a;

/** The part of a line one stream has written and not ended yet. */
interface Pending {
  pieces: Buffer[];
  bytes: number;
}

/**
 * Writes a container's output as a CRI log file, as containerd's redirectLogs does for each
 * of its streams: a record per line (`F`), a line longer than {@link MAX_RECORD_CONTENT}
 * bytes cut into `P` records of that size, and what is left without a newline when the stream
 * ends written as a last `P` record. A line is written once it is complete (or a record
 * full): output without a newline waits, as it does in containerd. Bytes are kept as they are.
 *
 * Emits `grow` after each write reached the file (readers follow {@link size}) and `closed`
 * once every stream ended and the file is written.
 */
export class CriLogWriter extends EventEmitter {
  /** Bytes written to the file so far. */
  size = 0;
  closed = false;
  private readonly file: WriteStream;
  private readonly pending: Record<CriStream, Pending> = { stdout: { pieces: [], bytes: 0 }, stderr: { pieces: [], bytes: 0 } };
  private ending = false;

  constructor(readonly path: string) {
    super();
    // Every follower of the log (pods/log?follow=true, any number of clients) listens here.
    this.setMaxListeners(0);
    mkdirSync(dirname(path), { recursive: true });
    this.file = createWriteStream(path, { flags: 'a' });
    this.file.on('error', () => this.markClosed());
  }

  /** Appends a chunk of one stream's output. */
  write(stream: CriStream, chunk: Buffer): void {
    if (this.ending || chunk.length === 0) return;
    const records: Buffer[] = [];
    const stamp = rfc3339Nano(nowNanos());
    const prefixFull = Buffer.from(`${stamp} ${stream} F `, 'latin1');
    const prefixPart = Buffer.from(`${stamp} ${stream} P `, 'latin1');
    const pending = this.pending[stream];
    let pos = 0;
    while (pos < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, pos);
      const end = newline === -1 ? chunk.length : newline;
      // Cut records of MAX_RECORD_CONTENT while the pending line is longer than that.
      while (pending.bytes + (end - pos) > MAX_RECORD_CONTENT) {
        const take = MAX_RECORD_CONTENT - pending.bytes;
        records.push(prefixPart, ...pending.pieces, chunk.subarray(pos, pos + take), Buffer.from([NEWLINE]));
        pending.pieces = [];
        pending.bytes = 0;
        pos += take;
      }
      if (newline === -1) {
        if (pos < chunk.length) {
          // Kept as a copy: the caller may reuse its buffer.
          pending.pieces.push(Buffer.from(chunk.subarray(pos)));
          pending.bytes += chunk.length - pos;
        }
        break;
      }
      records.push(prefixFull, ...pending.pieces, chunk.subarray(pos, newline + 1));
      pending.pieces = [];
      pending.bytes = 0;
      pos = newline + 1;
    }
    this.append(records);
  }

  /** Every stream ended: what is left of a line becomes a `P` record, then the file is closed. */
  end(): void {
    if (this.ending) return;
    const records: Buffer[] = [];
    const stamp = rfc3339Nano(nowNanos());
    for (const stream of ['stdout', 'stderr'] as const) {
      const pending = this.pending[stream];
      if (pending.bytes > 0) records.push(Buffer.from(`${stamp} ${stream} P `, 'latin1'), ...pending.pieces, Buffer.from([NEWLINE]));
      pending.pieces = [];
      pending.bytes = 0;
    }
    this.append(records);
    this.ending = true;
    this.file.end(() => this.markClosed());
  }

  private append(records: Buffer[]): void {
    if (records.length === 0) return;
    const data = Buffer.concat(records);
    this.file.write(data, (error) => {
      if (error) return;
      this.size += data.length;
      this.emit('grow');
    });
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed');
  }
}
