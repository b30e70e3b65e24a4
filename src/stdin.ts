import { Readable } from 'node:stream';
import type { StdinSource } from './types.js';

/** A task's stdin as a Readable that is consumed as it goes (a string or bytes become a one-chunk stream). */
export function stdinToReadable(stdin: StdinSource): Readable {
  if (stdin instanceof Readable) return stdin;
  if (typeof stdin === 'string' || stdin instanceof Uint8Array) {
    return Readable.from([typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : Buffer.from(stdin)], { objectMode: false });
  }
  return Readable.from(stdin, { objectMode: false });
}
