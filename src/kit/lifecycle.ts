import { setMaxListeners } from 'node:events';
import { anySignal, raceAbort } from '../abort.js';
import { CloseTimeoutError, DriverClosedError } from '../errors.js';
import type { ContainerStatus, Logger, OperationOptions } from '../types.js';
import { DriverEvents, since, summarise, type TaskRole } from './events.js';
import { SharedOperations } from './shared.js';

/** What a {@link DriverLifecycle} needs from its driver. */
export interface LifecycleOptions {
  /** The driver's registry name. */
  driver: string;
  namespace: string;
  /** Upper bound of one `close` sweep, in milliseconds. */
  closeTimeoutMs: number;
  logger?: Logger | undefined;
  /**
   * Removes everything labelled with the namespace (any instance's), running or not. Gets a
   * signal that fires when the bound runs out or every caller of `close` gave up; what it
   * could not remove is left for a later `close`. Starts in flight have settled before it runs.
   */
  reap(signal: AbortSignal): Promise<void>;
}

/** What a start is. */
export interface StartRequest {
  taskId: string;
  role: TaskRole;
  image: string;
}

/** What a driver's start function gets from {@link DriverLifecycle.start}. */
export interface StartScope {
  /**
   * Fires when every caller waiting for this start has given up, or the driver closes: the
   * start then removes what it made and rejects with this signal's reason.
   */
  readonly signal: AbortSignal;
  /** Says that the task's container existed already (another caller or instance made it) and was adopted. */
  adopted(): void;
  /** Says why the task has not started yet; published when the reason or message changes. */
  waiting(reason: string, message?: string): void;
}

/**
 * The lifecycle every driver shares, so that each behaves the same:
 *
 * - **Starts shared per task ID.** Concurrent starts of one ID in this instance are one start;
 *   each caller's signal rejects that caller only, and the start is aborted (and undoes what
 *   it made) only when every caller has given up, or the driver closes.
 * - **Closed once, within a bound.** The first `close` marks the driver closed (every later
 *   call of its methods rejects with `DriverClosedError`) and aborts what is in flight;
 *   concurrent calls share one sweep, which waits for the starts in flight to settle, then
 *   reaps the namespace. A sweep that does not finish within `closeTimeoutMs` rejects with
 *   `CloseTimeoutError`; one that fails or whose callers all gave up rejects too, and is not
 *   remembered, so a later `close` sweeps again. One that succeeded is: later calls resolve.
 * - **Events.** Start, started, waiting, errors, exits, removals and the close are published on
 *   the drivetrain channels and logged to the driver's `logger` (see docs/events.md).
 */
export class DriverLifecycle {
  readonly events: DriverEvents;
  private readonly closing = new AbortController();
  private readonly starts: SharedOperations<unknown>;
  private readonly sweeps = new SharedOperations<void>();
  private swept = false;
  /** Handles that reported their task's exit already (one event per handle). */
  private readonly reportedExits = new WeakSet<object>();

  constructor(private readonly options: LifecycleOptions) {
    this.events = new DriverEvents(options.driver, options.namespace, options.logger);
    this.starts = new SharedOperations(this.closing.signal);
    // Every start, stdin and follow of the driver listens to this one signal.
    setMaxListeners(Number.POSITIVE_INFINITY, this.closing.signal);
  }

  /** Fires when the driver closes (its reason is a `DriverClosedError`). */
  get lifetime(): AbortSignal {
    return this.closing.signal;
  }

  /** True once `close` was called, whether or not its sweep succeeded. */
  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Throws `DriverClosedError` once the driver was closed. */
  assertOpen(): void {
    if (this.closed) throw new DriverClosedError(this.options.driver);
  }

  /** The caller's signal joined with the driver's lifetime: for operations that must end when the driver closes. */
  scope(signal: AbortSignal | undefined): AbortSignal {
    return anySignal([signal, this.closing.signal]);
  }

  /**
   * Starts a task once per ID (see the class): `start` runs at most once at a time per role and
   * ID, under a {@link StartScope}. A start that resolves after the driver closed rejects with
   * `DriverClosedError`; the close sweep, which waits for it, removes what it made.
   */
  start<T>(request: StartRequest, signal: AbortSignal | undefined, start: (scope: StartScope) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DriverClosedError(this.options.driver));
    const run = (shared: AbortSignal): Promise<T> => this.observeStart(request, shared, start);
    return this.starts.run(`${request.role}\0${request.taskId}`, signal, run) as Promise<T>;
  }

  /** Publishes the task's exit the first time `handle` sees it ended; returns `status`. */
  exited(handle: object, taskId: string, status: ContainerStatus): ContainerStatus {
    if (status.done && !this.reportedExits.has(handle)) {
      this.reportedExits.add(handle);
      this.events.emit('taskExited', {
        taskId,
        exitCode: status.exitCode,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
        ...(status.message === undefined ? {} : { message: status.message }),
      });
    }
    return status;
  }

  /** Runs a container's or sandbox's removal and publishes it once done. */
  async cleanup(taskId: string, role: TaskRole, remove: () => Promise<void>): Promise<void> {
    const started = performance.now();
    await remove();
    this.events.emit('taskCleanedUp', { taskId, role, durationMs: since(started) });
  }

  /** Closes the driver (see the class). */
  close(options: OperationOptions = {}): Promise<void> {
    if (!this.closing.signal.aborted) this.closing.abort(new DriverClosedError(this.options.driver));
    if (this.swept) return Promise.resolve();
    return this.sweeps.run('close', options.signal, (shared) => this.sweep(shared));
  }

  private async observeStart<T>(request: StartRequest, signal: AbortSignal, start: (scope: StartScope) => Promise<T>): Promise<T> {
    const { taskId, role } = request;
    const started = performance.now();
    let adopted = false;
    let lastWaiting = '';
    const scope: StartScope = {
      signal,
      adopted: () => {
        adopted = true;
      },
      waiting: (reason, message) => {
        const key = `${reason}\n${message ?? ''}`;
        if (key === lastWaiting) return;
        lastWaiting = key;
        this.events.emit('taskWaiting', { taskId, role, reason, ...(message === undefined ? {} : { message }) });
      },
    };
    this.events.emit('taskStart', { taskId, role, image: request.image });
    try {
      const value = await start(scope);
      this.assertOpen();
      this.events.emit('taskStarted', { taskId, role, adopted, durationMs: since(started) });
      return value;
    } catch (error) {
      this.events.emit('taskError', { taskId, role, durationMs: since(started), error: summarise(error) });
      throw error;
    }
  }

  private async sweep(shared: AbortSignal): Promise<void> {
    const { closeTimeoutMs, driver, namespace } = this.options;
    const bound = AbortSignal.timeout(closeTimeoutMs);
    const signal = AbortSignal.any([shared, bound]);
    const started = performance.now();
    this.events.emit('driverClose', {});
    try {
      // Starts in flight see the driver closing and undo what they made; whatever they leave is reaped next.
      await raceAbort(this.starts.settled(), signal);
      await raceAbort(this.options.reap(signal), signal);
      this.swept = true;
      this.events.emit('driverClosed', { durationMs: since(started) });
    } catch (caught) {
      const error = bound.aborted && !shared.aborted ? new CloseTimeoutError(driver, namespace, closeTimeoutMs, { cause: caught }) : caught;
      this.events.emit('driverClosed', { durationMs: since(started), error: summarise(error) });
      throw error;
    }
  }
}
