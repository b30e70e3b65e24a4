import { Writable } from 'node:stream';
import type { Container, LogOptions, LogResult } from './types.js';

/** A Writable that keeps everything written to it; `text()` returns it as UTF-8. */
export class CollectingWritable extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  /** Everything written so far. */
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
  /** Everything written so far, as UTF-8 text. */
  text(): string {
    return this.buffer().toString('utf8');
  }
}

/**
 * A container's output so far (or, with `follow`, until it exits) as two strings, and whether
 * the engine kept them apart (`streams`, see {@link LogResult}).
 */
export async function readLogs(container: Container, options: Omit<LogOptions, 'stdout' | 'stderr'> = {}): Promise<{ stdout: string; stderr: string } & LogResult> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  const { streams } = await container.logs({ ...options, stdout, stderr });
  return { stdout: stdout.text(), stderr: stderr.text(), streams };
}
