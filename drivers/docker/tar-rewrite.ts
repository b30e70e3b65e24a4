import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { writeWithBackpressure } from '../../src/kit/write.js';
import tar from 'tar-stream';
import { DrivetrainError, InvalidInputError } from '../../src/errors.js';
import { TarConfinement, withoutPaxRecords } from '../../src/tar-confine.js';
import { destroyQuietly, tarInputToReadable } from '../../src/tar-input.js';

/** A tar header as tar-stream reads and writes it. */
export type TarHeader = tar.Header;

/**
 * Streams the entries of the tar `source` into `pack`, renaming each header with
 * `rename` (which may throw to reject an entry). Entry by entry with backpressure,
 * never buffered whole; `pack` is not finalised, so several sources can be appended.
 * `observe`, when given, may return a function that sees each chunk of that entry.
 */
export async function appendEntries(input: unknown, pack: tar.Pack, rename: (header: TarHeader) => TarHeader, observe?: (header: TarHeader) => ((chunk: Buffer) => void) | undefined): Promise<void> {
  const source = tarInputToReadable(input);
  const extract = tar.extract();
  // Errors of the parser itself mean the bytes are not a tar; the source's own errors pass as they are.
  let sourceError: unknown;
  const feeding = feed(source, extract).catch((error: unknown) => {
    sourceError = error;
    // Stops the entry loop; the source's own error is what the caller gets.
    extract.destroy();
  });
  try {
    const entries = extract[Symbol.asyncIterator]();
    for (;;) {
      let next: Awaited<ReturnType<typeof entries.next>>;
      try {
        next = await entries.next();
      } catch (error) {
        throw asTarError(error, sourceError);
      }
      if (next.done === true) break;
      const entry = next.value;
      const header = rename(entry.header);
      const onChunk = observe?.(header);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
        // The entry's failure arrives through the callback; destroying the pack mid-entry also emits it here.
        sink.on('error', () => {});
        void (async () => {
          for await (const chunk of entry) {
            onChunk?.(chunk as Buffer);
            await writeWithBackpressure(sink as unknown as Writable, chunk as Buffer);
          }
          (sink as unknown as { end(): void }).end();
        })().catch((error: unknown) => reject(asTarError(error, sourceError)));
      });
    }
    await feeding;
    if (sourceError !== undefined) throw sourceError;
  } catch (error) {
    source.destroy();
    if (source !== input) destroyQuietly(input);
    extract.destroy();
    throw error;
  }
}


/** A parser failure as the caller's bad input; an error that came from the source stream stays as it is. */
function asTarError(error: unknown, sourceError: unknown): unknown {
  if (sourceError !== undefined) return sourceError;
  if (error instanceof DrivetrainError) return error;
  return new InvalidInputError('tar', 'a valid tar stream', undefined, { cause: error });
}

async function feed(source: Readable, extract: tar.Extract): Promise<void> {
  for await (const chunk of source) {
    await writeWithBackpressure(extract as unknown as Writable, chunk as Buffer);
  }
  (extract as unknown as { end(): void }).end();
}

/** A tar-stream pack as a Node Readable (what dockerode and callers expect). */
export function packToReadable(pack: tar.Pack): Readable {
  const readable = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  readable.once('close', () => pack.destroy());
  return readable;
}

/** `name` relative to a root, normalised; throws when it is absolute or climbs out with `..`. */
export function confinedName(name: string, field: string): string {
  const normalised = posix.normalize(name);
  if (name.startsWith('/') || normalised === '..' || normalised.startsWith('../')) {
    throw new InvalidInputError(field, 'tar entries relative to the volume root, without ".." escaping it', name);
  }
  return normalised;
}

/**
 * A `rename` for {@link appendEntries} that refuses entries leaving the volume root (see
 * {@link TarConfinement}) and drops the source's PAX records. One per archive: it remembers
 * the archive's symlinks.
 */
export function confinedEntries(): (header: TarHeader) => TarHeader {
  const confinement = new TarConfinement();
  return (header) => {
    confinement.check(header);
    return withoutPaxRecords(header);
  };
}
