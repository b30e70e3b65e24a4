import type { Writable } from 'node:stream';
import { createDriver } from '../registry.js';
import type { Container, ContainerStatus, Driver, Task } from '../types.js';
import { runNamespace } from './namespace.js';

/** Upper bound of the cleanup after a run (container, then the namespace), in milliseconds. */
const CLEANUP_TIMEOUT_MS = 60_000;

/** Where a run's output goes, and what stops it. */
export interface RunIo {
  stdout: Writable;
  stderr: Writable;
  /** Aborts the run; cleanup still happens. */
  signal: AbortSignal;
}

/**
 * Runs one task to completion on a fresh driver (of `namespace`, else a random one): starts it, streams its logs live
 * while waiting for it to end, then removes the container and closes the driver
 * (which reaps everything of the namespace) — also when starting or waiting failed
 * or was aborted.
 */
export async function runTaskToEnd(driverName: string, namespace: string | undefined, task: Task, io: RunIo, driverOptions: Record<string, unknown> = {}): Promise<ContainerStatus> {
  let driver: Driver | undefined;
  let container: Container | undefined;
  try {
    const chosen = runNamespace(namespace);
    driver = await createDriver(driverName, chosen === undefined ? driverOptions : { ...driverOptions, namespace: chosen });
    container = await driver.runContainer(task, { signal: io.signal });
    const [status] = await Promise.all([
      container.wait({ signal: io.signal }),
      container.logs({ follow: true, stdout: io.stdout, stderr: io.stderr, signal: io.signal }),
    ]);
    return status;
  } finally {
    await cleanUp(driver, container);
  }
}

async function cleanUp(driver: Driver | undefined, container: Container | undefined): Promise<void> {
  // The run's own signal may have fired (Ctrl-C): cleanup gets a fresh, bounded one.
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  try {
    await container?.cleanup({ signal });
    await driver?.close({ signal });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = driver === undefined ? '' : ` (run \`drivetrain cleanup --driver ${driver.name} --namespace ${driver.namespace}\`)`;
    process.stderr.write(`drivetrain: cleanup failed: ${message}${where}\n`);
  }
}
