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
  /** Called once the task runs, before its output is read (the CLI enters raw mode then). */
  started?: () => void;
  /** Called once the task ended or failed, before the cleanup (the CLI leaves raw mode then). */
  finished?: () => void;
}

/**
 * Runs one task to completion on a fresh driver: starts it, streams its logs live while
 * waiting for it to end, then removes the container — also when starting or waiting failed
 * or was aborted. In a random namespace (no `namespace` given) it then closes the driver,
 * which removes everything of the namespace, volumes included. A namespace the user named
 * keeps its volumes for the next run (`-v cache:/cache`), until `drivetrain cleanup` removes them.
 */
export async function runTaskToEnd(driverName: string, namespace: string | undefined, task: Task, io: RunIo, driverOptions: Record<string, unknown> = {}): Promise<ContainerStatus> {
  let driver: Driver | undefined;
  let container: Container | undefined;
  const keepVolumes = namespace !== undefined;
  try {
    const chosen = runNamespace(namespace);
    // A named namespace outlives the run on purpose (its volumes): no owner record, so no reaper takes it for an orphan.
    driver = await createDriver(driverName, chosen === undefined ? driverOptions : { ...driverOptions, namespace: chosen, ...(keepVolumes ? { ownerRecord: false } : {}) });
    container = await driver.runContainer(task, { signal: io.signal });
    io.started?.();
    const [status] = await Promise.all([
      container.wait({ signal: io.signal }),
      container.logs({ follow: true, stdout: io.stdout, stderr: io.stderr, signal: io.signal }),
    ]);
    return status;
  } finally {
    io.finished?.();
    await cleanUp(driver, container, keepVolumes);
  }
}

async function cleanUp(driver: Driver | undefined, container: Container | undefined, keepVolumes: boolean): Promise<void> {
  // The run's own signal may have fired (Ctrl-C): cleanup gets a fresh, bounded one.
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  try {
    await container?.cleanup({ signal });
    if (!keepVolumes) await driver?.close({ signal });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = driver === undefined ? '' : ` (run \`drivetrain cleanup --driver ${driver.name} --namespace ${driver.namespace}\`)`;
    process.stderr.write(`drivetrain: cleanup failed: ${message}${where}\n`);
  }
}
