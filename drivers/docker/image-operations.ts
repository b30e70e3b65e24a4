import type { Readable } from 'node:stream';
import type { LoadImageOptions, LoadedImage } from './image-load.js';
import type { PushImageOptions, PushedImage, TagImageOptions } from './image-push.js';

// The image operations, each loaded on its first call: a process that only runs tasks does
// not load their archive readers, registry probes and credential helpers (eleven modules,
// ~8 MB of RSS when `drivetrain/docker` is imported; docs/performance.md, Imports).

/**
 * Loads an image archive (a `docker save` or OCI layout tar, plain, gzip or zstd) into the
 * Docker engine, as `docker load` does, and resolves with the images it holds; see
 * `drivers/docker/image-load.ts` and docs/drivers/docker.md for the archive forms and errors.
 */
export async function loadImage(archive: string | Readable | AsyncIterable<Uint8Array>, options?: LoadImageOptions): Promise<LoadedImage[]> {
  return (await import('./image-load.js')).loadImage(archive, options);
}

/** Gives the engine's image `source` the reference `target`, as `docker tag` does (see `drivers/docker/image-push.ts`). */
export async function tagImage(source: string, target: string, options?: TagImageOptions): Promise<void> {
  return (await import('./image-push.js')).tagImage(source, target, options);
}

/**
 * Pushes the engine's image `image` to its registry, as `docker push` does, and resolves
 * once the registry has stored the manifest (see `drivers/docker/image-push.ts` for how a
 * failure is classified).
 */
export async function pushImage(image: string, options?: PushImageOptions): Promise<PushedImage> {
  return (await import('./image-push.js')).pushImage(image, options);
}
