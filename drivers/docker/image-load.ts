import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { abortReason } from '../../src/abort.js';
import { EngineError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { destroyQuietly } from '../../src/tar-input.js';
import { normaliseError } from './engine-errors.js';
import { streamArchive } from './image-archive.js';
import { clientOf, imageExists, removeImageQuietly, type ImageOperationOptions } from './image-calls.js';
import { messageError, readJsonMessages } from './json-messages.js';
import type { LoadPlan } from './load-plan.js';

/** An image {@link loadImage} loaded. */
export interface LoadedImage {
  /** The image ID, `sha256:<hex>`: the digest of its config, a content hash (the same image always has the same ID). */
  id: string;
  /** The references the archive tags it with (`RepoTags` of `docker save`; the name an OCI index gives it), e.g. `busybox:latest`; may be empty. */
  tags: string[];
}

/** Options of {@link loadImage}. */
export type LoadImageOptions = ImageOperationOptions;

/**
 * Loads an image archive into the Docker engine, as `docker load` does, and resolves with
 * the images it holds once the engine has them.
 *
 * `archive` is a file path or a stream of the archive's bytes: a `docker save` tar or an
 * OCI image layout tar (`skopeo copy … oci-archive:`, `docker buildx … type=oci`),
 * plain, gzip or zstd compressed (Nix's `dockerTools` images are gzip `docker save`
 * archives). An OCI layout is given to engines that cannot read one as a `docker save`
 * archive naming the same blobs; one that indexes several platforms is refused (export
 * one platform).
 *
 * The archive streams through, never held whole; a stream given is destroyed when the
 * call fails or is aborted. Errors: a missing file is
 * `NotFoundError`; a bad archive (not a tar, no manifest, a named file missing, bzip2 or
 * xz compression) is `InvalidInputError` (field `archive`), found before the engine has
 * the whole archive, so it loads nothing; the engine's own refusal (a layer that does not
 * match its config, a full disk) is `EngineError` with the engine's message.
 *
 * Nothing is left half-loaded: the engine creates an image whole or not at all. When an
 * archive of several images fails part-way, the images this call created are removed
 * again (images the engine had before are kept). An abort before the whole archive was
 * sent loads nothing; after that the engine may still finish loading it.
 */
export async function loadImage(archive: string | Readable | AsyncIterable<Uint8Array>, options: LoadImageOptions = {}): Promise<LoadedImage[]> {
  let docker: Dockerode;
  try {
    docker = clientOf(options);
  } catch (error) {
    // Nothing will read the caller's stream: it is released at once, as on every failure.
    destroyQuietly(archive);
    throw error;
  }
  const signal = options.signal;
  const source = await openArchive(archive, signal);
  // Inspected when the whole archive went through but before its end is sent: the engine has not started loading.
  const existed = new Set<string>();
  const { body, planned } = streamArchive(source, async (plan) => {
    for (const { id } of plan.images) if (await imageExists(docker, id, signal)) existed.add(id);
  });
  const planOutcome = planned.then(
    (plan) => ({ plan }),
    (error: unknown) => ({ error }),
  );
  let failure: string | undefined;
  try {
    const response = (await docker.loadImage(body, { quiet: true, abortSignal: signal } as never)) as unknown as Readable;
    const messages = await readJsonMessages(response, () => {}, signal);
    failure = messages.map(messageError).find((m) => m !== undefined);
  } catch (error) {
    body.destroy();
    destroyQuietly(source);
    if (signal?.aborted) throw abortReason(signal);
    const outcome = await planOutcome;
    // A bad archive cuts the upload: its own error says more than the broken request.
    if ('error' in outcome) throw outcome.error;
    throw normaliseError(error, { kind: 'other', what: 'image load' });
  }
  if (failure !== undefined) {
    // The engine stopped reading: whatever of the archive was not sent is not needed.
    body.destroy();
    const outcome = await planOutcome;
    if ('plan' in outcome) await removeCreated(docker, outcome.plan, existed);
    else if (outcome.error instanceof InvalidInputError) throw outcome.error;
    throw new EngineError(`the Docker engine could not load the image archive: ${failure}`, undefined);
  }
  const outcome = await planOutcome;
  if ('error' in outcome) throw outcome.error;
  for (const image of outcome.plan.images) {
    if (!(await imageExists(docker, image.id, signal))) throw new EngineError(`the Docker engine reported the archive loaded, but image ${image.id} is not there`, undefined);
  }
  return outcome.plan.images.map((image) => ({ id: image.id, tags: [...image.tags] }));
}

/** The archive as a stream: a path is opened first, so a missing file fails before the engine is called. */
async function openArchive(archive: unknown, signal: AbortSignal | undefined): Promise<Readable> {
  if (typeof archive === 'string') {
    signal?.throwIfAborted();
    if (archive === '' || archive.includes('\0')) throw new InvalidInputError('archive', 'a file path or a readable stream of an image archive', archive);
    try {
      const handle = await open(archive, 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`image archive ${JSON.stringify(archive)} does not exist`, { cause: error });
      throw new InvalidInputError('archive', `a readable image archive file (${(error as Error).message})`, archive, { cause: error });
    }
  }
  if (archive instanceof Readable) {
    if (signal?.aborted) {
      archive.destroy();
      throw abortReason(signal);
    }
    return archive;
  }
  if (typeof archive === 'object' && archive !== null && Symbol.asyncIterator in archive) {
    signal?.throwIfAborted();
    return Readable.from(archive as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw new InvalidInputError('archive', 'a file path or a readable stream of an image archive', archive);
}

/** After a failed load: removes the images the engine did not have before this call but has now. */
async function removeCreated(docker: Dockerode, plan: LoadPlan, existed: ReadonlySet<string>): Promise<void> {
  for (const { id } of plan.images) {
    if (existed.has(id)) continue;
    if (await imageExists(docker, id, AbortSignal.timeout(10_000)).catch(() => false)) await removeImageQuietly(docker, id);
  }
}
