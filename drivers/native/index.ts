/**
 * The native driver: tasks run as host processes, without any container engine.
 * See `docs/drivers/native.md` for what it enforces and its path model.
 */
import type { DriverEntry, DriverFactory } from '../../src/types.js';
import { NativeDriver } from './driver.js';
import { resolveOptions, type NativeDriverOptions } from './options.js';

export type { NativeDriverOptions } from './options.js';
export { NativeDriver } from './driver.js';

/**
 * Creates a native driver (synchronously; the registry's `createDriver('native')`
 * works too). Options are validated here, once.
 */
export const createNativeDriver = ((options?: NativeDriverOptions): NativeDriver => new NativeDriver(resolveOptions(options))) satisfies DriverFactory<NativeDriverOptions>;

/** What the registry loads (`createDriver('native')`). */
export const driverEntry: DriverEntry<NativeDriverOptions> = { create: createNativeDriver, available: async () => true };

declare module '../../src/types.js' {
  interface DriverOptionsByName {
    native: NativeDriverOptions;
  }
}
