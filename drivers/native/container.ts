import { watch, type FSWatcher } from 'node:fs';
import { raceAbort } from '../../src/abort.js';
import type { DriverLifecycle } from '../../src/kit/lifecycle.js';
import type { Container, ContainerStatus, LogOptions, LogResult, OperationOptions } from '../../src/types.js';
import { liveProcess } from './live.js';
import { processAlive } from './process.js';
import { readRecord, type TaskRecord } from './record.js';
import { copyLogs, Wakeup } from './logs.js';
import { serviceLogs } from './services.js';

/** What a container handle needs from its driver. */
export interface ContainerContext {
  /** The driver's lifecycle: closed or not, and the events of the task. */
  life: DriverLifecycle;
  /** Stops the task's process group and removes its directory; idempotent. */
  removeTask(dir: string, signal: AbortSignal | undefined): Promise<void>;
  /** Stops the task's services (their output stays readable until the task is removed). */
  stopServices(dir: string): Promise<void>;
  reattachPollMs: number;
}

/** How long a living owner gets to record the end of a process that is gone, in milliseconds. */
const OWNER_RECORD_GRACE_MS = 5_000;

const UNKNOWN_END: ContainerStatus = {
  done: true,
  exitCode: null,
  reason: 'Unknown',
  message: 'the process ended while no driver instance watched it; its exit code is unknown',
};

/**
 * A task's host process, found through its directory. Works the same for a task
 * this driver started, one another instance of this Node process started (followed
 * by its events), and one another Node process started (followed through `task.json`
 * and the pid's liveness).
 */
export class NativeContainer implements Container {
  /** The final status once seen, so it survives the removal of the directory. */
  private final: ContainerStatus | undefined;

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly context: ContainerContext,
  ) {}

  async status(options: OperationOptions = {}): Promise<ContainerStatus> {
    this.context.life.assertOpen();
    options.signal?.throwIfAborted();
    return this.context.life.exited(this, this.id, await this.currentStatus());
  }

  async wait(options: OperationOptions = {}): Promise<ContainerStatus> {
    this.context.life.assertOpen();
    const { signal } = options;
    signal?.throwIfAborted();
    const own = liveProcess(this.dir);
    if (own !== undefined) {
      const status = await raceAbort(own.exited, signal);
      // The task has ended: its services stop with it.
      await this.context.stopServices(this.dir);
      return this.context.life.exited(this, this.id, this.remember(status));
    }
    const wake = new Wakeup();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.dir, { persistent: false }, () => wake.fire());
      watcher.on('error', () => wake.fire());
    } catch {
      // The directory is gone: currentStatus reports it.
    }
    try {
      for (;;) {
        wake.reset();
        const status = await this.currentStatus();
        if (status.done) {
          await this.context.stopServices(this.dir);
          return this.context.life.exited(this, this.id, status);
        }
        await wake.next(signal, this.context.reattachPollMs);
      }
    } finally {
      watcher?.close();
    }
  }

  async logs(options: LogOptions = {}): Promise<LogResult> {
    this.context.life.assertOpen();
    const { signal, follow = false } = options;
    signal?.throwIfAborted();
    if (options.service !== undefined) return serviceLogs(this.dir, this.id, options, this.context.reattachPollMs);
    const own = liveProcess(this.dir);
    const source = follow
      ? { ended: async () => (await this.currentStatus()).done, exited: own?.exited, pollMs: own === undefined ? this.context.reattachPollMs : undefined }
      : undefined;
    const tty = (await readRecord(this.dir))?.tty === true;
    await copyLogs(this.dir, { stdout: options.stdout, stderr: options.stderr }, source, signal);
    return { streams: tty ? 'combined' : 'separate' };
  }

  async cleanup(options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.context.life.cleanup(this.id, 'task', () => this.context.removeTask(this.dir, options.signal));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }

  private async currentStatus(): Promise<ContainerStatus> {
    const own = liveProcess(this.dir);
    if (own !== undefined) return this.remember(own.status());
    let record: TaskRecord | undefined;
    try {
      record = await readRecord(this.dir);
    } catch {
      record = undefined;
    }
    if (record === undefined) return this.final ?? { done: true, exitCode: null, reason: 'Deleted', message: 'the task was removed' };
    if (record.status.done) return this.remember(record.status);
    if (record.pid !== undefined && processAlive(record.pid, record.pidStartTicks)) return { done: false, exitCode: null };
    // Its output is still being copied into the files: not over yet (a follow reads on).
    if (record.relays?.some((relay) => processAlive(relay.pid, relay.startTicks))) return { done: false, exitCode: null };
    const final = await this.awaitOwnerRecord(record);
    return final === undefined ? UNKNOWN_END : this.remember(final);
  }

  /**
   * The process is gone but its end is not recorded yet. While the owning Node
   * process lives it is about to record it (it reaps the process first): give it a
   * bounded moment. An owner that is gone will never record it.
   */
  private async awaitOwnerRecord(record: TaskRecord): Promise<ContainerStatus | undefined> {
    const ownerAlive = (): boolean => record.ownerPid !== undefined && processAlive(record.ownerPid, record.ownerStartTicks);
    const deadline = Date.now() + OWNER_RECORD_GRACE_MS;
    do {
      const again = await readRecord(this.dir).catch(() => undefined);
      if (again === undefined) return this.final ?? { done: true, exitCode: null, reason: 'Deleted', message: 'the task was removed' };
      if (again.status.done) return again.status;
      if (!ownerAlive()) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 25));
    } while (Date.now() < deadline);
    return undefined;
  }

  private remember(status: ContainerStatus): ContainerStatus {
    if (status.done) this.final = status;
    return status;
  }
}
