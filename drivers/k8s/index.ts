// Placeholder until the Kubernetes driver lands.
import type { DriverFactory } from '../../src/registry.js';
export const createK8sDriver: DriverFactory = () => { throw new Error('not implemented'); };
