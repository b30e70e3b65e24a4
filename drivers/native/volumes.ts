import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperationOptions, Volume } from '../../src/types.js';
import { removeTree } from './filesystem.js';

/**
 * Volumes are directories `<root>/<namespace>/volumes/<name>`: created on demand, mounted into
 * tasks as symlinks (or read-only copies, see filesystem.ts), removed with the namespace.
 */

/** The host directory of a volume (its name validated before). */
export function volumeDir(volumesRoot: string, name: string): string {
  return join(volumesRoot, name);
}

/** Creates the volume's directory, or finds the existing one. */
export async function ensureVolume(volumesRoot: string, name: string, sizeBytes: number | undefined): Promise<Volume> {
  const dir = volumeDir(volumesRoot, name);
  await mkdir(dir, { recursive: true });
  return {
    name,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    cleanup: async (options: OperationOptions = {}) => {
      options.signal?.throwIfAborted();
      await removeTree(dir);
    },
  };
}
