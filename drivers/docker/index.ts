/**
 * The Docker driver: runs each task as a Docker container through the engine API
 * (dockerode). See `docs/drivers/docker.md`.
 */
import type Dockerode from 'dockerode';
import type { DriverFactory } from '../../src/registry.js';
import { InvalidInputError } from '../../src/errors.js';
import { randomNamespace } from '../../src/registry.js';
import { validateImage, validateNamespace } from '../../src/validate.js';
import { DockerDriver } from './driver.js';
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_HELPER_IMAGE, DEFAULT_RETRY, DEFAULT_START_TIMEOUT_MS, type DockerDriverOptions, type PullPolicy } from './options.js';

export type { DockerDriverOptions, PullPolicy } from './options.js';
export { DockerDriver } from './driver.js';
export type { DockerContainer } from './container.js';
export type { DockerVolume } from './volumes.js';
export type { DockerSandbox } from './sandbox.js';

const PULL_POLICIES: readonly PullPolicy[] = ['IfNotPresent', 'Always', 'Never'];

/**
 * Creates a Docker driver. Options are validated here, once; no engine call is made
 * until the first operation (the client is created lazily unless `docker` is given).
 */
export function createDockerDriver(options: DockerDriverOptions = {}): DockerDriver {
  const o: DockerDriverOptions = options ?? {};
  const namespace = o.namespace ?? randomNamespace();
  validateNamespace(namespace);
  const pullPolicy = o.pullPolicy ?? 'IfNotPresent';
  if (!PULL_POLICIES.includes(pullPolicy)) throw new InvalidInputError('options.pullPolicy', `one of ${PULL_POLICIES.join(', ')}`, pullPolicy);
  const startTimeoutMs = positiveInteger(o.startTimeoutMs, DEFAULT_START_TIMEOUT_MS, 'options.startTimeoutMs');
  const closeTimeoutMs = positiveInteger(o.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 'options.closeTimeoutMs');
  const helperImage = o.helperImage ?? DEFAULT_HELPER_IMAGE;
  validateImage(helperImage, 'options.helperImage');
  if (o.networkMode !== undefined && (typeof o.networkMode !== 'string' || o.networkMode.trim() === '')) {
    throw new InvalidInputError('options.networkMode', 'a Docker network mode such as "none", "host" or a network name', o.networkMode);
  }
  if (o.docker !== undefined && (typeof o.docker !== 'object' || o.docker === null || typeof (o.docker as Dockerode).createContainer !== 'function')) {
    throw new InvalidInputError('options.docker', 'a Dockerode instance', o.docker);
  }
  return new DockerDriver(
    { namespace, pullPolicy, startTimeoutMs, closeTimeoutMs, helperImage, networkMode: o.networkMode, retry: { ...DEFAULT_RETRY, ...o.retry } },
    o.docker,
  );
}

// The registry's factory shape: a compile-time check that this function fits it.
createDockerDriver satisfies DriverFactory<DockerDriverOptions>;

function positiveInteger(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new InvalidInputError(field, 'a positive integer number of milliseconds', value);
  return value;
}

export { loadImage, type LoadImageOptions, type LoadedImage } from './image-load.js';
export { pushImage, tagImage, type PushImageOptions, type PushedImage, type PushProgress, type TagImageOptions } from './image-push.js';
export type { ImageOperationOptions } from './image-calls.js';
