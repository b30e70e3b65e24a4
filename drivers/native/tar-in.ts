import { createWriteStream } from 'node:fs';
import { lstat, mkdir, realpath, rm, symlink, link } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { abortReason } from '../../src/abort.js';
import { InvalidInputError } from '../../src/errors.js';
import { isCode } from './record.js';
import { TarConfinement } from '../../src/tar-confine.js';
import { destroyQuietly, tarInputToReadable } from '../../src/tar-input.js';

/**
 * A path relative to a volume root, or an {@link InvalidInputError}: no absolute
 * paths, no `..` that leaves the root. `.`-only paths resolve to `''` (the root).
 */
export function relativeInside(name: string, field: string): string {
  if (typeof name !== 'string' || name.includes('\0') || isAbsolute(name)) {
    throw new InvalidInputError(field, 'a path relative to the volume root', name);
  }
  const normal = posix.normalize(name).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) throw new InvalidInputError(field, 'a path that stays inside the volume', name);
  return normal === '.' ? '' : normal;
}

/** True when `path` (already resolved) is `root` or below it. */
export function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Extracts a tar stream into `root`. Every entry is checked before anything is
 * written for it: names that leave the root, symlinks and hard links pointing out
 * of it, and paths through existing symlinks that lead out, are refused with
 * {@link InvalidInputError}, so nothing is ever written outside `root`. Bytes that
 * are not a tar reject with an `InvalidInputError` on field `tar` (the parser's
 * error as its cause). `tar` may be any byte stream: a Node `Readable`, a
 * tar-stream `pack()` or another async iterable of chunks.
 */
export async function extractInto(root: string, tar: unknown, signal: AbortSignal | undefined): Promise<void> {
  const source = tarInputToReadable(tar);
  const rootReal = await realpath(root);
  signal?.throwIfAborted();
  const parser = extract();
  const confinement = new TarConfinement();
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        source.unpipe(parser as unknown as NodeJS.WritableStream);
        source.destroy();
        if (source !== tar) destroyQuietly(tar);
        parser.destroy();
        reject(error);
      };
      onAbort = () => fail(abortReason(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      parser.on('entry', (header, body, next) => {
        writeEntry(rootReal, confinement, header, body).then(
          () => next(),
          (error: unknown) => {
            body.resume();
            fail(error);
          },
        );
      });
      parser.on('finish', () => {
        if (settled) return;
        settled = true;
        resolve();
      });
      // The parser only fails on bytes that are not a tar: the caller's input.
      parser.on('error', (error: unknown) => fail(new InvalidInputError('tar', 'a valid tar stream', undefined, { cause: error })));
      source.on('error', fail);
      source.pipe(parser as unknown as NodeJS.WritableStream);
    });
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}


/** An entry's content stream (a streamx Readable). */
type EntryBody = import('streamx').Readable;

async function writeEntry(root: string, confinement: TarConfinement, header: Header, body: EntryBody): Promise<void> {
  // The archive's own rules first (its symlinks included); then the real paths on disk.
  confinement.check(header);
  const name = relativeInside(header.name, `tar entry "${header.name}"`);
  if (name === '') {
    body.resume();
    return;
  }
  const target = join(root, name);
  await ensureDirInside(root, dirname(target), header.name);
  const mode = (header.mode ?? 0o644) & 0o7777;
  switch (header.type) {
    case 'directory':
      body.resume();
      await ensureDirInside(root, target, header.name);
      return;
    case 'file':
    case 'contiguous-file':
      await replaceable(target, header.name);
      await pipeline(body, createWriteStream(target, { mode }));
      return;
    case 'symlink': {
      body.resume();
      const linkname = header.linkname ?? '';
      if (isAbsolute(linkname) || !within(root, join(dirname(target), linkname))) {
        throw new InvalidInputError(`tar entry "${header.name}"`, 'a symlink that points inside the volume', linkname);
      }
      await replaceable(target, header.name);
      await symlink(linkname, target);
      return;
    }
    case 'link': {
      body.resume();
      const source = join(root, relativeInside(header.linkname ?? '', `tar entry "${header.name}" link target`));
      await ensureDirInside(root, dirname(source), header.name);
      await replaceable(target, header.name);
      try {
        await link(source, target);
      } catch (error) {
        // The archive's own mistake (no such file before it, a directory): bad input, not an engine failure.
        if (isCode(error, 'ENOENT') || isCode(error, 'EPERM') || isCode(error, 'EISDIR') || isCode(error, 'EEXIST')) {
          throw new InvalidInputError(`tar entry "${header.name}"`, 'a hard link to a file that exists in the volume or earlier in the archive', header.linkname, { cause: error });
        }
        throw error;
      }
      return;
    }
    default:
      // Devices, FIFOs and extended headers have no place in a volume copy.
      body.resume();
  }
}

/** Creates `dir` (and parents) below `root`, refusing any existing component that is a symlink leading out. */
async function ensureDirInside(root: string, dir: string, entryName: string): Promise<void> {
  const parts = relative(root, dir).split(sep).filter((p) => p !== '');
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    let info;
    try {
      info = await lstat(current);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
      await mkdir(current);
      continue;
    }
    if (info.isSymbolicLink()) {
      const real = await realpath(current).catch(() => undefined);
      if (real === undefined || !within(root, real)) {
        throw new InvalidInputError(`tar entry "${entryName}"`, 'a path that does not pass through a symlink leading out of the volume');
      }
      current = real;
    } else if (!info.isDirectory()) {
      throw new InvalidInputError(`tar entry "${entryName}"`, `a path whose parent "${relative(root, current)}" is a directory`);
    }
  }
}

/**
 * Whatever is at the target is replaced as `tar` replaces it: unlinked first, so an existing
 * symlink is never written through and a hard-linked file keeps its other name's content.
 * An existing directory is the archive's mistake.
 */
async function replaceable(target: string, entryName: string): Promise<void> {
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isDirectory()) await rm(target);
  else throw new InvalidInputError(`tar entry "${entryName}"`, 'a file, symlink or hard link where the volume has no directory');
}
