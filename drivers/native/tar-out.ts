import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { abortReason } from '../../src/abort.js';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { isCode } from './record.js';
import { relativeInside, within } from './tar-in.js';

/**
 * A tar stream of `paths` below `root` (all of it when `paths` is undefined),
 * entries named relative to `root`, directories included, symlinks kept as links.
 * Paths are checked (inside the root, existing) before the stream is returned.
 * When `signal` aborts, the stream fails at once with its reason (read or not), and
 * the file being read is closed; a reader destroying the stream stops the packing too.
 */
export async function packFrom(root: string, paths: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<Readable> {
  const rootReal = await realpath(root);
  const starts = paths === undefined ? [''] : await checkPaths(rootReal, paths);
  if (signal?.aborted) throw abortReason(signal);
  const archive = pack();
  // tar-stream's streams are streamx ones: callers get a Node.js Readable.
  const output = Readable.from(archive as AsyncIterable<Buffer>, { objectMode: false });
  // Fires once the output is gone (ended, failed, aborted or destroyed by its reader): packing stops.
  const stopped = new AbortController();
  const onAbort = (): void => {
    output.destroy(abortReason(signal as AbortSignal));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  output.once('close', () => {
    signal?.removeEventListener('abort', onAbort);
    stopped.abort();
    archive.destroy();
  });
  void (async () => {
    for (const start of starts) await addTree(archive, rootReal, start, stopped.signal);
    archive.finalize();
  })().catch((error: unknown) => {
    if (!stopped.signal.aborted) output.destroy(error as Error);
  });
  return output;
}

async function checkPaths(root: string, paths: readonly string[]): Promise<string[]> {
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidInputError('paths', 'a non-empty array of paths relative to the volume root', paths);
  return Promise.all(
    paths.map(async (path, i) => {
      const rel = relativeInside(path, `paths[${i}]`);
      const full = join(root, rel);
      let real: string;
      try {
        real = await realpath(full);
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) throw new NotFoundError(`"${path}" does not exist in the volume`, { cause: error });
        throw error;
      }
      if (!within(root, real)) throw new InvalidInputError(`paths[${i}]`, 'a path that stays inside the volume (no symlink leading out)', path);
      return rel;
    }),
  );
}

async function addTree(archive: Pack, root: string, rel: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const full = rel === '' ? root : join(root, rel);
  const info = await lstat(full);
  const common = { name: rel, mode: info.mode & 0o7777, mtime: info.mtime, uid: info.uid, gid: info.gid };
  if (info.isDirectory()) {
    if (rel !== '') await addEntry(archive, { ...common, name: `${rel}/`, type: 'directory' });
    for (const child of (await readdir(full)).sort()) await addTree(archive, root, rel === '' ? child : `${rel}/${child}`, signal);
  } else if (info.isSymbolicLink()) {
    await addEntry(archive, { ...common, type: 'symlink', linkname: await readlink(full) });
  } else if (info.isFile()) {
    await new Promise<void>((resolve, reject) => {
      const entry = archive.entry({ ...common, type: 'file', size: info.size }, (error) => (error ? reject(error) : resolve()));
      // The signal closes the file (and the entry) when the output is gone mid-file.
      pipeline(createReadStream(full), entry as unknown as NodeJS.WritableStream, { signal }).catch(reject);
    });
  }
}

function addEntry(archive: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    archive.entry(header, (error) => (error ? reject(error) : resolve()));
  });
}
