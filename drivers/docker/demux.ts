import { Writable } from 'node:stream';

/**
 * Splits Docker's multiplexed stream (8-byte frame headers: stream type, 3 zero
 * bytes, big-endian payload length) into stdout and stderr. Destinations are never
 * ended, and a destination that asks for backpressure pauses the source until it drains.
 */
export class DemuxWritable extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: Writable | undefined,
    private readonly stderr: Writable | undefined,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drainFrames().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A frame cut short means the engine's stream broke off: not silently dropped.
    callback(this.pending.length === 0 ? null : new Error(`the log stream ended inside a frame (${this.pending.length} bytes left over)`));
  }

  private async drainFrames(): Promise<void> {
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const payload = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      // Type 1 is stdout, 2 stderr; 0 (stdin echo) and anything else is not task output.
      const target = type === 1 ? this.stdout : type === 2 ? this.stderr : undefined;
      // Only a destination that asked for backpressure costs a wait; the common case stays synchronous.
      if (target !== undefined && payload.length > 0 && !target.write(payload)) await drained(target);
    }
  }
}

/** Writes `chunk`, resolving at once or when the destination has drained. */
export function writeRespectingBackpressure(target: Writable, chunk: Buffer): Promise<void> {
  if (target.destroyed) return Promise.reject(new Error('the output stream was destroyed'));
  if (target.write(chunk)) return Promise.resolve();
  return drained(target);
}

/** Resolves once `target` emits `drain`; rejects when it errors or closes first. */
function drained(target: Writable): Promise<void> {
  if (target.destroyed) return Promise.reject(new Error('the output stream was destroyed'));
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      target.off('error', onError);
      target.off('close', onClose);
      resolve();
    };
    const onError = (error: Error): void => {
      target.off('drain', onDrain);
      target.off('close', onClose);
      reject(error);
    };
    const onClose = (): void => {
      target.off('drain', onDrain);
      target.off('error', onError);
      reject(new Error('the output stream was closed'));
    };
    target.once('drain', onDrain);
    target.once('error', onError);
    target.once('close', onClose);
  });
}
