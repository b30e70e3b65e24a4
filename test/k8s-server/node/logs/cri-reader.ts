import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { LogStream } from '../../pod-log-options.js';
import { isBefore, type SinceTime } from '../streams/log-since.js';
import { parseRecord, rfc3339NanoFixed } from './cri-format.js';
import type { CriLogWriter } from './cri-writer.js';

/** What the kubelet reads a CRI log with (pkg/kubelet/kuberuntime/logs/logs.go LogOptions). */
export interface CriReadOptions {
  stream: LogStream;
  follow: boolean;
  timestamps: boolean;
  /** Records before this time are skipped. */
  since?: SinceTime;
  /** Start at the last this-many records of the file. */
  tail?: number;
  /** Stop after this many bytes of output (timestamps included). */
  limitBytes?: number;
}

const READ_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/** Resolves when the response can take more (or the client left). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    // Gone already: its 'close' came before this wait, and no 'drain' will.
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Where the last `count` records (lines of the file) start. */
async function tailOffset(file: FileHandle, size: number, count: number): Promise<number> {
  if (count === 0) return size;
  let found = 0;
  let end = size;
  const block = Buffer.alloc(64 * 1024);
  // The file ends with a newline: the one at size - 1 ends the last record, not a start.
  let skipLast = true;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const { bytesRead } = await file.read(block, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i -= 1) {
      if (block[i] !== NEWLINE) continue;
      if (skipLast) {
        skipLast = false;
        continue;
      }
      found += 1;
      if (found === count) return start + i + 1;
    }
    skipLast = false;
    end = start;
  }
  return 0;
}

/**
 * Serves pods/log from a CRI log file as the kubelet's ReadLogs does: from the tail's start,
 * each record parsed, skipped when before `since` or of the other stream, its content
 * (with the newline back on `F` records, and the timestamp in front with `timestamps`)
 * written until `limitBytes`; with `follow`, on until the runtime closed the log (the
 * container's output ended) and it was read to its end. No faster than the client reads.
 */
export async function serveCriLog(writer: CriLogWriter, options: CriReadOptions, res: ServerResponse): Promise<void> {
  const file = await open(writer.path, 'r');
  let offset = options.tail !== undefined ? await tailOffset(file, writer.size, options.tail) : 0;
  let written = 0;
  // The client may have left while the file was being opened: its 'close' came already.
  let gone = res.destroyed;
  const wake = new Set<() => void>();
  const notify = () => {
    for (const resolve of [...wake]) resolve();
    wake.clear();
  };
  res.on('close', () => {
    gone = true;
    notify();
  });
  writer.on('grow', notify);
  writer.on('closed', notify);
  const waitFor = () => new Promise<void>((resolve) => wake.add(resolve));
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const buffer = Buffer.alloc(READ_BYTES);
  let carry = Buffer.alloc(0);
  try {
    for (;;) {
      if (gone) return;
      const available = writer.size - offset;
      if (available <= 0) {
        if (!options.follow || writer.closed) break;
        await waitFor();
        continue;
      }
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, available), offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      const data = carry.length ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
      const out: Buffer[] = [];
      let pos = 0;
      let full = false;
      for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, pos)) {
        const line = data.subarray(pos, newline);
        pos = newline + 1;
        const record = parseRecord(line);
        if (!record) continue;
        if (options.stream !== 'All' && record.stream !== options.stream.toLowerCase()) continue;
        if (options.since && isBefore(line, options.since)) continue;
        const pieces = options.timestamps ? [Buffer.from(`${rfc3339NanoFixed(record.stamp)} `), record.content] : [record.content];
        if (record.full) pieces.push(Buffer.from('\n'));
        for (let piece of pieces) {
          if (options.limitBytes !== undefined) piece = piece.subarray(0, options.limitBytes - written);
          written += piece.length;
          out.push(piece);
        }
        if (options.limitBytes !== undefined && written >= options.limitBytes) {
          full = true;
          break;
        }
      }
      // A record cut by the read is kept for the next one (copied: the buffer is reused).
      carry = Buffer.from(data.subarray(pos));
      if (out.length > 0 && !res.write(Buffer.concat(out))) await drained(res);
      if (full) break;
    }
  } finally {
    writer.off('grow', notify);
    writer.off('closed', notify);
    await file.close();
    if (!res.writableEnded) res.end();
  }
}
