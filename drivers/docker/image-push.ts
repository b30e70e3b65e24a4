import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { abortReason } from '../../src/abort.js';
import { validateCredentials, type RegistryCredentials } from '../../src/credentials.js';
import { readDockerCredentials } from '../../src/docker-config.js';
import { InvalidInputError, NotFoundError, RegistryError } from '../../src/errors.js';
import { parseImageReference, registryServerAddress, type ImageReference } from '../../src/image-reference.js';
import { callEngine } from './context.js';
import { normaliseError } from './engine-errors.js';
import { clientOf, imageExists, type ImageOperationOptions } from './image-calls.js';
import { messageError, readJsonMessages, type JsonMessage } from './json-messages.js';
import { DEFAULT_RETRY } from './options.js';
import { toEngineAuth } from './pull-auth.js';
import { probeRegistry } from './registry-probe.js';

/** Options of {@link tagImage}. */
export type TagImageOptions = ImageOperationOptions;

/**
 * Gives the engine's image `source` (an ID such as `sha256:…`, or a reference) the
 * reference `target` (`registry/repository[:tag]`, tag `latest` when absent), as
 * `docker tag` does. An existing `target` is moved to the image. A missing `source` is
 * `NotFoundError`; an invalid `target` (or one with a digest) is `InvalidInputError`.
 */
export async function tagImage(source: string, target: string, options: TagImageOptions = {}): Promise<void> {
  const docker = clientOf(options);
  if (typeof source !== 'string' || source.trim() === '') throw new InvalidInputError('source', 'an image ID or reference', source);
  const ref = taggable(target, 'target');
  const tag = async (): Promise<void> => {
    await docker.getImage(source).tag({ repo: ref.name, tag: ref.tag ?? 'latest', abortSignal: options.signal } as never);
  };
  try {
    await callEngine(DEFAULT_RETRY, { kind: 'other', what: `image ${source}` }, tag, { signal: options.signal, idempotent: true });
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError(`image ${JSON.stringify(source)} is not in the Docker engine: load it first (loadImage)`, { cause: error.cause });
    throw error;
  }
}

/** One progress message of a push, as the engine sends it. */
export interface PushProgress {
  /** The layer it is about (a short digest), when it is about one. */
  id?: string;
  /** `Preparing`, `Pushing`, `Pushed`, `Layer already exists`, `Mounted from …`, … */
  status: string;
  /** Bytes of the layer sent so far. */
  currentBytes?: number;
  /** The layer's size in bytes. */
  totalBytes?: number;
}

/** Options of {@link pushImage}. */
export interface PushImageOptions extends ImageOperationOptions {
  /**
   * Credentials for the image's registry (their `registry` must be the image's).
   * @default those Docker's client would use, from `DOCKER_AUTH_CONFIG` or the Docker config file (see `readDockerCredentials`); anonymous when there are none
   */
  credentials?: RegistryCredentials;
  /**
   * The Docker config file to read credentials from when `credentials` is not given.
   * @default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`
   */
  dockerConfigPath?: string;
  /** Called with each progress message of the engine. */
  onProgress?: (progress: PushProgress) => void;
}

/** What {@link pushImage} pushed. */
export interface PushedImage {
  /** The reference pushed, tag included (`127.0.0.1:5000/app:1.2`). */
  reference: string;
  /** The manifest digest the registry stored, `sha256:<hex>`: pull by `<name>@<digest>` for exactly this image. */
  digest: string;
  /** The manifest's size in bytes. */
  sizeBytes: number;
}

/**
 * Pushes the engine's image `image` (`registry/repository[:tag]`, tag `latest` when
 * absent) to its registry, as `docker push` does, and resolves once the registry has
 * stored the manifest.
 *
 * The engine reports a push as a stream of messages inside a 200 response, a failure
 * included; a push counts as done only when the registry's digest arrived and no error
 * did. A failure is classified by asking the registry itself (see `RegistryError`):
 * `Unauthorized` (credentials missing or refused), `Unreachable` (nothing answers at
 * its address), else `Failed`, each with the engine's own message. An image the engine
 * lacks is `NotFoundError`. An aborted push stops the engine's upload; layers already
 * sent stay in the registry unreferenced (registries collect them), no tag is written.
 */
export async function pushImage(image: string, options: PushImageOptions = {}): Promise<PushedImage> {
  const docker = clientOf(options);
  const signal = options.signal;
  const ref = taggable(image, 'image');
  const tag = ref.tag ?? 'latest';
  const reference = `${ref.name}:${tag}`;
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new InvalidInputError('options.onProgress', 'a function', options.onProgress);
  const credentials = await credentialsFor(ref, options);
  if (!(await imageExists(docker, reference, signal))) {
    throw new NotFoundError(`image ${JSON.stringify(reference)} is not in the Docker engine: load it (loadImage) or tag it (tagImage) first`);
  }
  const authconfig = credentials === undefined ? {} : toEngineAuth(credentials);
  let messages: JsonMessage[];
  let callbackError: { error: unknown } | undefined;
  try {
    const stream = (await docker.getImage(ref.name).push({ tag, authconfig, abortSignal: signal } as never)) as unknown as Readable;
    messages = await readJsonMessages(
      stream,
      (message) => {
        try {
          report(message, options.onProgress);
        } catch (error) {
          // The caller's own callback failed: the push stops and the call rejects with its error.
          callbackError = { error };
          stream.destroy();
        }
      },
      signal,
    );
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    if (callbackError !== undefined) throw callbackError.error;
    throw normaliseError(error, { kind: 'other', what: `push of ${reference}` });
  }
  const failure = messages.map(messageError).find((m) => m !== undefined);
  const result = messages.map((m) => m.aux).find((aux) => typeof aux?.Digest === 'string');
  if (failure === undefined && result !== undefined) {
    return { reference, digest: result.Digest as string, sizeBytes: typeof result.Size === 'number' ? result.Size : 0 };
  }
  throw await classify(docker, ref, credentials, failure ?? 'the push ended without the registry storing a manifest', signal);
}

async function classify(docker: Dockerode, ref: ImageReference, credentials: RegistryCredentials | undefined, said: string, signal: AbortSignal | undefined): Promise<Error> {
  const verdict = await probeRegistry(docker, ref.registry, ref.repository, credentials, signal);
  if (signal?.aborted) return abortReason(signal);
  const detail = `(the engine said: ${said})`;
  switch (verdict) {
    case 'Unreachable':
      return new RegistryError(ref.registry, 'Unreachable', `nothing answers at the registry's address; check the host and port, and that the registry runs ${detail}`);
    case 'Unauthorized':
      return new RegistryError(
        ref.registry,
        'Unauthorized',
        credentials === undefined
          ? `the registry requires credentials and none were given: pass options.credentials, or log in with \`docker login ${ref.registry}\` ${detail}`
          : `the registry refused the credentials${credentials.username === undefined ? '' : ` of user ${JSON.stringify(credentials.username)}`} ${detail}`,
      );
    default:
      return new RegistryError(ref.registry, 'Failed', `the push of ${ref.name} failed ${detail}`);
  }
}

/** Explicit credentials (for the image's registry), else Docker's configured ones. */
async function credentialsFor(ref: ImageReference, options: PushImageOptions): Promise<RegistryCredentials | undefined> {
  if (options.credentials !== undefined) {
    const credentials = validateCredentials(options.credentials, 'options.credentials');
    if (credentials.registry !== ref.registry) {
      throw new InvalidInputError('options.credentials.registry', `the registry of the image, ${ref.registry} (credentials are only sent to the registry they are for)`, credentials.registry);
    }
    return credentials;
  }
  if (options.dockerConfigPath !== undefined && (typeof options.dockerConfigPath !== 'string' || options.dockerConfigPath === '')) {
    throw new InvalidInputError('options.dockerConfigPath', 'a file path', options.dockerConfigPath);
  }
  return readDockerCredentials(ref.registry, { ...(options.dockerConfigPath === undefined ? {} : { configPath: options.dockerConfigPath }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
}

/** A reference that can be tagged and pushed: valid, without a digest. */
function taggable(image: string, field: string): ImageReference {
  const ref = parseImageReference(image, field);
  if (ref.digest !== undefined) throw new InvalidInputError(field, 'a reference without a digest (registry/repository[:tag])', image);
  return ref;
}

function report(message: JsonMessage, onProgress: PushImageOptions['onProgress']): void {
  if (onProgress === undefined || typeof message.status !== 'string') return;
  const detail = message.progressDetail ?? {};
  onProgress({
    ...(message.id === undefined ? {} : { id: message.id }),
    status: message.status,
    ...(typeof detail.current === 'number' ? { currentBytes: detail.current } : {}),
    ...(typeof detail.total === 'number' ? { totalBytes: detail.total } : {}),
  });
}
