import type Dockerode from 'dockerode';
import { dockerodeClass } from './sdk.js';
import { anySignal } from '../../src/abort.js';
import { InvalidInputError } from '../../src/errors.js';
import { callEngine } from './context.js';
import { statusCodeOf } from './engine-errors.js';
import { DEFAULT_RETRY } from './options.js';

/** Options every image publishing call takes. */
export interface ImageOperationOptions {
  /**
   * The Docker client to use.
   * @default a client built from the environment (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`), else `/var/run/docker.sock`
   */
  docker?: Dockerode;
  /** Aborts the call; see each function for what an abort leaves. */
  signal?: AbortSignal;
}

/** Longest time removing an image a failed load created may take, in ms: cleanup is bounded. */
const CLEANUP_TIMEOUT_MS = 30_000;

/** The client of the options (validated), else one from the environment. */
export function clientOf(options: ImageOperationOptions): Dockerode {
  if (typeof options !== 'object' || options === null) throw new InvalidInputError('options', 'an object', options);
  const docker = options.docker;
  if (docker === undefined) return new (dockerodeClass())();
  if (typeof docker !== 'object' || docker === null || typeof (docker as Dockerode).getImage !== 'function') throw new InvalidInputError('options.docker', 'a Dockerode instance', docker);
  return docker;
}

/** Whether the engine has an image by ID or reference (one inspect, retried while the engine is unreachable). */
export function imageExists(docker: Dockerode, image: string, signal: AbortSignal | undefined): Promise<boolean> {
  const inspect = (): Promise<boolean> =>
    (docker.getImage(image).inspect({ abortSignal: signal } as never) as unknown as Promise<unknown>).then(
      () => true,
      (error: unknown) => {
        if (statusCodeOf(error) === 404) return false;
        throw error;
      },
    );
  return callEngine(DEFAULT_RETRY, { kind: 'image', image }, inspect, { signal, idempotent: true });
}

/** Removes an image by ID with every tag it has; "already gone" and "in use by a container" are fine. Bounded, never throws. */
export async function removeImageQuietly(docker: Dockerode, id: string): Promise<void> {
  const signal = anySignal([], CLEANUP_TIMEOUT_MS);
  await (docker.getImage(id).remove({ force: true, abortSignal: signal } as never) as unknown as Promise<unknown>).catch(() => {});
}
