import { pipeline, Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidInputError } from '../../src/errors.js';
import { entryName, planLoad, type LoadPlan } from './load-plan.js';
import { appendEntries, packToReadable } from './tar-rewrite.js';

/**
 * An image archive on its way to the engine: decompressed, read entry by entry (never
 * whole), and sent on as a plain tar. What the plan needs — names, and the small JSON
 * documents (manifests, configs, indexes) — is kept aside as it passes. The archive's
 * end is written only after the plan is made and `beforeEnd` resolved: the engine
 * starts loading only once it has the whole archive, so a bad archive never reaches it
 * complete, and `beforeEnd` sees the engine as it was before the load.
 */

/** Largest entry kept aside as a possible JSON document, in bytes. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
/** Most bytes kept aside in all. */
const MAX_KEPT_BYTES = 64 * 1024 * 1024;

export interface StreamedArchive {
  /** The plain tar to send to the engine. */
  body: Readable;
  /** The plan, once every entry went through and `beforeEnd` resolved; rejects when the archive is bad (the body then fails too). */
  planned: Promise<LoadPlan>;
}

export function streamArchive(source: Readable, beforeEnd: (plan: LoadPlan) => Promise<void>): StreamedArchive {
  const pack = tar.pack();
  const names = new Set<string>();
  const documents = new Map<string, Buffer>();
  let kept = 0;
  const keep = (header: tar.Header): ((chunk: Buffer) => void) | undefined => {
    if (header.type !== 'file' || (header.size ?? 0) > MAX_DOCUMENT_BYTES || kept + (header.size ?? 0) > MAX_KEPT_BYTES) return undefined;
    const name = entryName(header.name);
    const chunks: Buffer[] = [];
    let length = 0;
    let json: boolean | undefined;
    return (chunk) => {
      // Layers are tar or compressed data; only what starts like a JSON document is kept.
      json ??= /^\s*[[{]/.test(chunk.subarray(0, 64).toString('latin1'));
      if (!json) return;
      chunks.push(chunk);
      length += chunk.length;
      kept += chunk.length;
      if (length === header.size) documents.set(name, Buffer.concat(chunks));
    };
  };
  const planned = (async (): Promise<LoadPlan> => {
    try {
      await appendEntries(decompressed(source), pack, (header) => (names.add(entryName(header.name)), header), keep);
    } catch (error) {
      if (error instanceof InvalidInputError && error.field === 'tar') throw new InvalidInputError('archive', 'a `docker save` or OCI image layout tar archive, plain, gzip or zstd compressed', undefined, { cause: error.cause });
      throw error;
    }
    const plan = planLoad({ names, documents });
    if (plan.manifest !== undefined) await appendFile(pack, 'manifest.json', plan.manifest);
    await beforeEnd(plan);
    pack.finalize();
    return plan;
  })();
  planned.catch((error: unknown) => pack.destroy(error as Error));
  return { body: packToReadable(pack), planned };
}

function appendFile(pack: tar.Pack, name: string, content: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * The archive's bytes, decompressed when they start with the gzip or zstd magic number,
 * as the engine's own load accepts them. bzip2 and xz are refused with a clear error
 * (Node has no decoder for them). Stopping early stops (destroys) the source.
 */
async function* decompressed(source: Readable): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let sourceError: unknown;
  const next = async (): Promise<IteratorResult<Buffer>> => {
    try {
      return await chunks.next();
    } catch (error) {
      sourceError = error;
      throw error;
    }
  };
  try {
    let head = Buffer.alloc(0);
    let ended = false;
    while (head.length < 6 && !ended) {
      const read = await next();
      if (read.done === true) ended = true;
      else head = Buffer.concat([head, read.value]);
    }
    const kind = compressionOf(head);
    if (kind === 'bzip2' || kind === 'xz') {
      throw new InvalidInputError('archive', `a plain, gzip or zstd compressed tar archive (this one is ${kind} compressed: decompress it first, or compress it with gzip)`);
    }
    const raw = async function* (): AsyncGenerator<Buffer> {
      yield head;
      for (let read = ended ? undefined : await next(); read !== undefined && read.done !== true; read = await next()) yield read.value;
    };
    if (kind === 'none') return yield* raw();
    const decoder = kind === 'gzip' ? createGunzip() : createZstdDecompress();
    try {
      for await (const chunk of pipeline(Readable.from(raw(), { objectMode: false }), decoder, () => {})) yield chunk as Buffer;
    } catch (error) {
      // The decoder's own failure means the data is not what its magic number claimed.
      if (error === sourceError) throw error;
      throw new InvalidInputError('archive', `valid ${kind} data`, undefined, { cause: error });
    }
  } finally {
    await chunks.return?.();
  }
}

function compressionOf(head: Buffer): 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}
