import { mkdir, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { EngineError, NotFoundError } from '../../src/errors.js';
import { volumeNameOf } from '../../src/kit/volumes.js';
import type { VolumeRef } from '../../src/types.js';
import { extractInto } from './tar-in.js';
import { packFrom } from './tar-out.js';
import { volumeDir } from './volumes.js';
import { isCode } from './record.js';

/** Copies into and out of volumes: a tar is extracted into, or packed from, the volume's directory. */

/**
 * Extracts a tar stream into the volume's root (creating the volume when missing). A full
 * file system (`ENOSPC`, or `EDQUOT` over a quota) rejects with `EngineError`, as the other
 * drivers report it; the entries written before stay, the last one possibly cut short.
 */
export async function copyToVolume(volumesRoot: string, volume: VolumeRef, tar: Readable, signal: AbortSignal | undefined): Promise<void> {
  const name = volumeNameOf(volume);
  const dir = volumeDir(volumesRoot, name);
  await mkdir(dir, { recursive: true });
  try {
    await extractInto(dir, tar, signal);
  } catch (error) {
    if (isCode(error, 'ENOSPC') || isCode(error, 'EDQUOT')) {
      throw new EngineError(`copying into volume "${name}" failed: no space left on device (${(error as NodeJS.ErrnoException).code}); the entries before the one that did not fit were written`, undefined, { cause: error });
    }
    throw error;
  }
}

/** A tar of the volume's `paths` (all of it when undefined); a volume that does not exist is `NotFoundError`. */
export async function packVolume(volumesRoot: string, namespace: string, volume: VolumeRef, paths: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<Readable> {
  const name = volumeNameOf(volume);
  const dir = volumeDir(volumesRoot, name);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new NotFoundError(`no volume "${name}" in namespace "${namespace}"`);
  return packFrom(dir, paths, signal);
}
