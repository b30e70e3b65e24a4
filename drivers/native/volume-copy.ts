import { mkdir, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../src/errors.js';
import { volumeNameOf } from '../../src/kit/volumes.js';
import type { VolumeRef } from '../../src/types.js';
import { extractInto } from './tar-in.js';
import { packFrom } from './tar-out.js';
import { volumeDir } from './volumes.js';

/** Copies into and out of volumes: a tar is extracted into, or packed from, the volume's directory. */

/** Extracts a tar stream into the volume's root (creating the volume when missing). */
export async function copyToVolume(volumesRoot: string, volume: VolumeRef, tar: Readable, signal: AbortSignal | undefined): Promise<void> {
  const dir = volumeDir(volumesRoot, volumeNameOf(volume));
  await mkdir(dir, { recursive: true });
  await extractInto(dir, tar, signal);
}

/** A tar of the volume's `paths` (all of it when undefined); a volume that does not exist is `NotFoundError`. */
export async function packVolume(volumesRoot: string, namespace: string, volume: VolumeRef, paths: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<Readable> {
  const name = volumeNameOf(volume);
  const dir = volumeDir(volumesRoot, name);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new NotFoundError(`no volume "${name}" in namespace "${namespace}"`);
  return packFrom(dir, paths, signal);
}
