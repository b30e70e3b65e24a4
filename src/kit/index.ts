/**
 * The driver kit: what every driver shares, so that each behaves the same and none copies
 * another. A driver is a folder of its own (see docs/writing-a-driver.md) that imports the
 * contract (`src/types.ts`, `src/errors.ts`, `src/validate.ts`) and this kit, never the registry.
 */
export { DriverLifecycle, type LifecycleOptions, type StartRequest, type StartScope } from './lifecycle.js';
export { SharedOperations } from './shared.js';
export { CHANNELS, DriverEvents, describeEvent, since, summarise, type ErrorSummary, type EventBase, type EventFields, type EventName, type EventPayloads, type TaskRole } from './events.js';
export { MAX_TIMER_MS, oneOf, optionsObject, positiveInteger, randomNamespace, resolveBaseOptions, validateLogger } from './options.js';
export { validateSizeBytes, volumeNameOf } from './volumes.js';
export { drained, relayTo, writeWithBackpressure } from './write.js';
export { listeningOn } from './listening.js';
export { waitUntilServiceReady, type ServiceProbe } from './service-ready.js';
