import { Readable } from 'node:stream';
import { InvalidInputError } from './errors.js';

/**
 * A tar archive given to `copyToVolume` as a Node Readable. tar-stream's own streams
 * (streamx) and other async iterables lack the `pipe`/`unpipe` semantics Node relies on,
 * so they are read through `Readable.from`, which turns their failures into an `error`
 * event of one stream that is always destroyable.
 */
export function tarInputToReadable(input: unknown): Readable {
  if (input instanceof Readable) return input;
  if (input instanceof Uint8Array) return Readable.from([Buffer.from(input)], { objectMode: false });
  if (typeof input === 'object' && input !== null && (Symbol.asyncIterator in input || Symbol.iterator in input)) {
    return Readable.from(input as AsyncIterable<Buffer>, { objectMode: false });
  }
  throw new InvalidInputError('tar', 'a readable stream or async iterable of tar bytes', input);
}

/** Stops a caller's stream that was wrapped, if it can be stopped. */
export function destroyQuietly(stream: unknown): void {
  const destroy = (stream as { destroy?: unknown } | null)?.destroy;
  if (typeof destroy !== 'function') return;
  try {
    (destroy as () => void).call(stream);
  } catch {
    // Already gone: nothing left to stop.
  }
}
