// Placeholder until the native driver lands.
import type { DriverFactory } from '../../src/registry.js';
export const createNativeDriver: DriverFactory = () => { throw new Error('not implemented'); };
