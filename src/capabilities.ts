import type { DriverCapabilities } from './types.js';

/** The capabilities of a driver that implements every optional operation and enforces every task setting. */
export const FULL_CAPABILITIES: DriverCapabilities = Object.freeze({
  copyToVolume: true,
  copyFromVolume: true,
  readFilesFromVolume: true,
  startSandbox: true,
  tty: true,
  services: true,
  enforces: Object.freeze({ user: true, privileged: true, cpuShares: true, memoryBytes: true, image: true }),
});
