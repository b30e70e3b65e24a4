/**
 * The Docker driver: runs each task as a Docker container through the engine API
 * (dockerode). See `docs/drivers/docker.md`.
 */
import type { DriverEntry, DriverFactory } from '../../src/types.js';
import { available, doctor } from './doctor.js';
import { DockerDriver } from './driver.js';
import { resolveOptions, type DockerDriverOptions } from './options.js';
import { dockerodeRoot } from './sdk.js';

export type { DockerDriverOptions, PullPolicy } from './options.js';
export { DockerDriver } from './driver.js';
export type { DockerContainer } from './container.js';
export type { DockerVolume } from './volumes.js';
export type { DockerSandbox } from './sandbox.js';

/**
 * Creates a Docker driver. Options are validated here, once; the only engine calls made
 * before the first operation are the background reap of orphaned namespaces (unless
 * `reapOrphans: false`; see docs/reliability.md, "No orphans"). The client is created
 * lazily unless `docker` is given, and dockerode is loaded with it. Throws
 * `MissingDependencyError` when no `docker` is given and dockerode is not installed.
 */
export const createDockerDriver = ((options?: DockerDriverOptions): DockerDriver => {
  const { docker, ...resolved } = resolveOptions(options);
  if (docker === undefined) dockerodeRoot();
  return new DockerDriver(resolved, docker);
}) satisfies DriverFactory<DockerDriverOptions>;

/** What the registry loads (`createDriver('docker')`, `drivetrain doctor`, the CLI's default driver). */
export const driverEntry: DriverEntry<DockerDriverOptions> = { create: createDockerDriver, doctor, available };

declare module '../../src/types.js' {
  interface DriverOptionsByName {
    docker: DockerDriverOptions;
  }
}

export { available, doctor } from './doctor.js';

export { loadImage, pushImage, tagImage } from './image-operations.js';
export type { LoadImageOptions, LoadedImage } from './image-load.js';
export type { PushImageOptions, PushedImage, PushProgress, TagImageOptions } from './image-push.js';
export type { ImageOperationOptions } from './image-calls.js';
