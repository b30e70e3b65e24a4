import { Writable } from 'node:stream';
import { drained } from '../../src/kit/write.js';

/**
 * Splits Docker's multiplexed stream (8-byte frame headers: stream type, 3 zero bytes,
 * big-endian payload length) into frames and hands each to `onFrame`; a returned promise
 * (a destination applying backpressure) pauses the source until it settles. A stream that
 * ends inside a frame fails: the engine broke off, and nothing is silently dropped.
 */
export class FrameWritable extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => Promise<void> | undefined) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drainFrames().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback(this.pending.length === 0 ? null : new Error(`the engine's stream ended inside a frame (${this.pending.length} bytes left over)`));
  }

  private async drainFrames(): Promise<void> {
    while (this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const stream = this.pending[0] ?? 0;
      const payload = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      // Only a destination that asked for backpressure costs a wait; the common case stays synchronous.
      const pause = this.onFrame(stream, payload);
      if (pause !== undefined) await pause;
    }
  }
}

/**
 * A multiplexed stream's stdout and stderr, written to two destinations (never ended).
 * Type 1 is stdout, 2 stderr; 0 (stdin echo) and anything else is not task output.
 */
export function demuxTo(stdout: Writable | undefined, stderr: Writable | undefined): FrameWritable {
  return new FrameWritable((stream, payload) => {
    const target = stream === 1 ? stdout : stream === 2 ? stderr : undefined;
    return target !== undefined && payload.length > 0 && !target.write(payload) ? drained(target) : undefined;
  });
}
