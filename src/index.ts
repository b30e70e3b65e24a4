/**
 * drivetrain: run tasks in containers through one {@link Driver} interface.
 *
 * ```ts
 * import { createDriver, readLogs } from 'drivetrain';
 * await using driver = await createDriver('docker');
 * const container = await driver.runContainer({ id: 'build-42', image: 'busybox', command: ['echo', 'hello'] });
 * const status = await container.wait();
 * console.log(status.exitCode, (await readLogs(container)).stdout);
 * ```
 */
export type * from './types.js';
export * from './errors.js';
export { createDriver, registerDriver, listDrivers, randomNamespace } from './registry.js';
export type { DriverFactory, CreateDriverOptions } from './registry.js';
export { readLogs, CollectingWritable } from './logs.js';
export { defaultWorkDir, taskDirName, toDnsLabel, shortHash, SCRATCH_ROOT } from './names.js';
export { LABELS } from './labels.js';
export { validateTask, validateSandboxTask, validateVolumeName, validateNamespace } from './validate.js';
export type { ResolvedTask, ResolvedMount } from './validate.js';
export { validateServices, DEFAULT_SERVICE_READY_TIMEOUT_MS, SERVICE_READY_INTERVAL_MS, MAX_SERVICES } from './services.js';
export type { ResolvedService, ResolvedReadiness } from './services.js';
export { FULL_CAPABILITIES } from './capabilities.js';
export { DEFAULT_TERMINAL_SIZE, MAX_TERMINAL_SIDE, validateTerminalSize, validateTerminalOptions } from './terminal.js';
export type { ResolvedTerminal } from './terminal.js';
export { CHANNELS, describeEvent } from './kit/events.js';
export type { ErrorSummary, EventName, EventPayloads } from './kit/events.js';
export { START_WAITING_CHANNEL } from './diagnostics.js';
export type { StartWaitingEvent } from './diagnostics.js';
export { toDockerConfigJson, validateCredentials } from './credentials.js';
export type { RegistryCredentials } from './credentials.js';
export { readDockerCredentials } from './docker-config.js';
export type { DockerConfigOptions } from './docker-config.js';
export { parseImageReference, normaliseRegistry, DOCKER_HUB } from './image-reference.js';
export type { ImageReference } from './image-reference.js';
