import type Dockerode from 'dockerode';
import { InvalidInputError } from '../../src/errors.js';
import { oneOf, optionsObject, positiveInteger, resolveBaseOptions } from '../../src/kit/options.js';
import type { RegistryCredentials } from '../../src/credentials.js';
import { resolveOwnerOptions, type OwnerOptions, type ResolvedOwnerOptions } from '../../src/kit/owner.js';
import type { RetryPolicy } from '../../src/retry.js';
import type { BaseDriverOptions, Logger } from '../../src/types.js';
import { validateImage } from '../../src/validate.js';
import { pullCredentials, type PullCredentials } from './pull-auth.js';

/** When the Docker driver pulls a task's image. */
export type PullPolicy = 'IfNotPresent' | 'Always' | 'Never';

/** Options of {@link createDockerDriver}. */
export interface DockerDriverOptions extends BaseDriverOptions, OwnerOptions {
  /**
   * The Docker client to use. When absent, one is created on first use from the
   * environment (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`), falling back
   * to `/var/run/docker.sock`.
   * @default a client built from the environment, lazily
   */
  docker?: Dockerode;
  /**
   * When to pull a task's image: `IfNotPresent` pulls only when the engine lacks it,
   * `Always` pulls before every run and sandbox, `Never` fails with
   * `ImagePullError` (reason `ErrImageNeverPull`) when it is missing.
   * @default 'IfNotPresent'
   */
  pullPolicy?: PullPolicy;
  /**
   * How long the engine may take to start a task's container, and how long
   * `runContainer` waits for a container another caller is creating to start, before
   * giving up with `StartTimeoutError` (what was created is removed), in milliseconds.
   * Also bounds how long an image pull may take.
   * @default 120000
   */
  startTimeoutMs?: number;
  /**
   * Docker network mode of task and sandbox containers (`none`, `host`, `bridge`, a network name, …).
   * @default the engine's default network
   */
  networkMode?: string;
  /**
   * Image of the short-lived helper containers that copy files into and out of
   * volumes (only created, never started: any image works there), and of the network
   * holder of a task with services, which runs its `sleep` and `cat` (see
   * docs/drivers/docker.md, "Services"). It is pulled when missing, unless
   * {@link pullPolicy} is `Never`.
   * @default 'busybox'
   */
  helperImage?: string;
  /**
   * Upper bound of {@link Driver.close}, in milliseconds: past it, `close` rejects with
   * `CloseTimeoutError` and a later `close` removes what is left.
   * @default 30000
   */
  closeTimeoutMs?: number;
  /**
   * Retries of transient engine errors (connection refused or reset, 5xx on calls
   * that are safe to repeat). Once exhausted, an unreachable engine is reported as
   * `EngineUnavailableError`.
   * @default { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 1000, maxRetryTimeMs: 5000 }
   */
  retry?: RetryPolicy;
  /**
   * Liveness of the connection to the engine, in ms. A quick call (an inspect) not
   * answered within this long is taken for a half-open connection (packets silently
   * dropped, nothing closed): it is dropped and retried on a fresh connection within
   * {@link retry}, then reported as `EngineUnavailableError`. `wait()` also inspects its
   * container at this interval (the wait API's long poll may be silently lost), and a
   * follow or an exec silent for this long checks its container or exec (see
   * docs/drivers/docker.md, "Half-open connections").
   * @default 5000
   */
  livenessIntervalMs?: number;
  /**
   * Credentials for pulling images (of tasks, sandboxes, services and the helper), one
   * entry per registry. A registry without an entry gets what Docker's own client would
   * send: `DOCKER_AUTH_CONFIG`, else the Docker config file (`docker login`) and its
   * credential helpers (see `readDockerCredentials`); without those the pull is anonymous.
   * @default none given: Docker's configured credentials
   */
  registryCredentials?: readonly RegistryCredentials[];
  /**
   * The Docker config file pull credentials are read from.
   * @default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`
   */
  dockerConfigPath?: string;
}

/** The options with every default applied. */
export interface ResolvedDockerOptions extends ResolvedOwnerOptions {
  namespace: string;
  logger: Logger | undefined;
  pullPolicy: PullPolicy;
  startTimeoutMs: number;
  networkMode: string | undefined;
  helperImage: string;
  closeTimeoutMs: number;
  retry: RetryPolicy;
  livenessIntervalMs: number;
  pullCredentials: PullCredentials;
}

export const DEFAULT_START_TIMEOUT_MS = 120_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
export const DEFAULT_LIVENESS_INTERVAL_MS = 5_000;
export const DEFAULT_HELPER_IMAGE = 'busybox';
export const DEFAULT_RETRY: RetryPolicy = { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 1000, maxRetryTimeMs: 5000 };

/** Validates the options once, at the factory, naming the offending option. */
export function resolveOptions(given: DockerDriverOptions | undefined): ResolvedDockerOptions & { docker: Dockerode | undefined } {
  const options = optionsObject(given);
  const { namespace, logger } = resolveBaseOptions(options);
  const helperImage = options.helperImage ?? DEFAULT_HELPER_IMAGE;
  validateImage(helperImage, 'options.helperImage');
  if (options.networkMode !== undefined && (typeof options.networkMode !== 'string' || options.networkMode.trim() === '')) {
    throw new InvalidInputError('options.networkMode', 'a Docker network mode such as "none", "host" or a network name', options.networkMode);
  }
  const docker = options.docker;
  if (docker !== undefined && (typeof docker !== 'object' || docker === null || typeof (docker as Dockerode).createContainer !== 'function')) {
    throw new InvalidInputError('options.docker', 'a Dockerode instance', docker);
  }
  return {
    namespace,
    logger,
    pullPolicy: oneOf(options.pullPolicy, 'options.pullPolicy', ['IfNotPresent', 'Always', 'Never'] as const, 'IfNotPresent'),
    startTimeoutMs: positiveInteger(options.startTimeoutMs, 'options.startTimeoutMs', DEFAULT_START_TIMEOUT_MS),
    closeTimeoutMs: positiveInteger(options.closeTimeoutMs, 'options.closeTimeoutMs', DEFAULT_CLOSE_TIMEOUT_MS),
    livenessIntervalMs: positiveInteger(options.livenessIntervalMs, 'options.livenessIntervalMs', DEFAULT_LIVENESS_INTERVAL_MS),
    helperImage,
    networkMode: options.networkMode,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    pullCredentials: pullCredentials(options.registryCredentials, options.dockerConfigPath),
    ...resolveOwnerOptions(options),
    docker,
  };
}
