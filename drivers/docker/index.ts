// Placeholder until the Docker driver lands.
import type { DriverFactory } from '../../src/registry.js';
export const createDockerDriver: DriverFactory = () => { throw new Error('not implemented'); };
