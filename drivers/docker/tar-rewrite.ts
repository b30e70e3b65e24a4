import { posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidInputError } from '../../src/errors.js';

/** A tar header as tar-stream reads and writes it. */
export type TarHeader = tar.Header;

/**
 * Streams the entries of the tar `source` into `pack`, renaming each header with
 * `rename` (which may throw to reject an entry). Entry by entry with backpressure,
 * never buffered whole; `pack` is not finalised, so several sources can be appended.
 */
export async function appendEntries(source: Readable, pack: tar.Pack, rename: (header: TarHeader) => TarHeader): Promise<void> {
  const extract = tar.extract();
  const feeding = feed(source, extract);
  feeding.catch(() => {});
  try {
    for await (const entry of extract) {
      const header = rename(entry.header);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
        void (async () => {
          for await (const chunk of entry) {
            if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
          }
          (sink as unknown as { end(): void }).end();
        })().catch(reject);
      });
    }
    await feeding;
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw error;
  }
}

async function feed(source: Readable, extract: tar.Extract): Promise<void> {
  for await (const chunk of source) {
    if (!extract.write(chunk as Buffer)) await new Promise<void>((resolve) => extract.once('drain', () => resolve()));
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

/** Rejects entries (and hard-link targets) that would land outside the volume root. */
export function checkConfined(header: TarHeader): TarHeader {
  confinedName(header.name, 'tar');
  if (header.type === 'link' && header.linkname) confinedName(header.linkname, 'tar');
  return header;
}
