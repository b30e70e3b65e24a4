import { Readable } from 'node:stream';
import { pack, type Header } from 'tar-stream';

/**
 * One entry of an archive a test builds: a tar header (a `file` unless `type` says otherwise;
 * a name ending in `/` is a `directory`) and, for a file, its content.
 */
export type TarInput = Partial<Header> & { name: string; content?: string | Buffer };

/** How {@link tarOf} hands the archive out. */
export interface TarStreamOptions {
  /** Cut the archive into pieces of at most this many bytes, as a slow source would give them. */
  pieceBytes?: number;
  /** Hears the running total of bytes the reader has taken, after each piece. */
  onTaken?: (bytes: number) => void;
}

/**
 * The one tar builder of the tests: the archive of `entries`, in order, as a Node.js
 * Readable, the kind of stream callers hand drivers (tar-stream's own streams are streamx
 * ones). Throws when tar-stream cannot pack an entry.
 */
export function tarOf(entries: readonly TarInput[], options: TarStreamOptions = {}): Readable {
  const archive = packed(entries);
  const { pieceBytes, onTaken } = options;
  if (pieceBytes === undefined && onTaken === undefined) return Readable.from(archive as AsyncIterable<Buffer>, { objectMode: false });
  async function* pieces(): AsyncGenerator<Buffer> {
    let taken = 0;
    for await (const chunk of archive as AsyncIterable<Buffer>) {
      const size = pieceBytes ?? chunk.length;
      for (let offset = 0; offset < chunk.length; offset += size) {
        const piece = chunk.subarray(offset, offset + size);
        yield piece;
        taken += piece.length;
        onTaken?.(taken);
      }
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

/** The bytes of the archive of `entries` (see {@link tarOf}); rejects when tar-stream cannot pack an entry. */
export async function tarBytes(entries: readonly TarInput[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarOf(entries)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function packed(entries: readonly TarInput[]): ReturnType<typeof pack> {
  const archive = pack();
  for (const { content, ...header } of entries) {
    const type = header.type ?? (header.name.endsWith('/') ? 'directory' : 'file');
    archive.entry({ ...header, type }, content ?? '');
  }
  archive.finalize();
  return archive;
}
