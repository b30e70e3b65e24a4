import { FrameWritable } from './demux.js';

/**
 * One message of the engine's log, as `GET /containers/{id}/logs?timestamps=1` sends it:
 * one multiplexed frame (8-byte header: stream type, 3 zero bytes, big-endian payload
 * length) per message of the log driver.
 */
export interface LogRecord {
  /** 1 stdout, 2 stderr, 3 the engine's own error ("Error grabbing logs: …"). */
  stream: number;
  /** The message's time as the engine wrote it (RFC 3339, nanoseconds); '' for stream 3. */
  timestamp: string;
  /** The message's bytes, the timestamp and its space removed. */
  payload: Buffer;
}

/**
 * Splits the engine's multiplexed, timestamped log stream into {@link LogRecord}s and hands
 * each to `onRecord` (see {@link FrameWritable} for backpressure and a cut stream).
 */
export function logRecords(onRecord: (record: LogRecord) => Promise<void> | undefined): FrameWritable {
  return new FrameWritable((stream, frame) => onRecord(toRecord(stream, frame)));
}

/** Stdout and stderr frames start with the timestamp and one space (the engine's `timestamps=1`). */
function toRecord(stream: number, frame: Buffer): LogRecord {
  if (stream !== 1 && stream !== 2) return { stream, timestamp: '', payload: frame };
  const space = frame.indexOf(0x20);
  if (space < 0) throw new Error(`a log frame without the timestamp the engine was asked for (${frame.length} bytes)`);
  return { stream, timestamp: frame.toString('latin1', 0, space), payload: frame.subarray(space + 1) };
}
