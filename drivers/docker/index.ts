/**
 * The Docker driver: runs each task as a Docker container through the engine API
 * (dockerode). See `docs/drivers/docker.md`.
 */
import type { DriverFactory } from '../../src/types.js';
import { DockerDriver } from './driver.js';
import { resolveOptions, type DockerDriverOptions } from './options.js';

export type { DockerDriverOptions, PullPolicy } from './options.js';
export { DockerDriver } from './driver.js';
export type { DockerContainer } from './container.js';
export type { DockerVolume } from './volumes.js';
export type { DockerSandbox } from './sandbox.js';

/**
 * Creates a Docker driver. Options are validated here, once; no engine call is made
 * until the first operation (the client is created lazily unless `docker` is given).
 */
export const createDockerDriver = ((options?: DockerDriverOptions): DockerDriver => {
  const { docker, ...resolved } = resolveOptions(options);
  return new DockerDriver(resolved, docker);
}) satisfies DriverFactory<DockerDriverOptions>;

export { loadImage, type LoadImageOptions, type LoadedImage } from './image-load.js';
export { pushImage, tagImage, type PushImageOptions, type PushedImage, type PushProgress, type TagImageOptions } from './image-push.js';
export type { ImageOperationOptions } from './image-calls.js';
