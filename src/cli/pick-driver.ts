import { driverAvailable } from '../registry.js';

/** How long the default-driver check waits for a Docker engine to answer, in milliseconds. */
const PING_TIMEOUT_MS = 1500;

/** The driver to use when none was named: `docker` when its engine answers (its own check), else `native`. */
export async function defaultDriverName(): Promise<'docker' | 'native'> {
  const docker = await driverAvailable('docker', { timeoutMs: PING_TIMEOUT_MS }).catch(() => false);
  return docker ? 'docker' : 'native';
}
