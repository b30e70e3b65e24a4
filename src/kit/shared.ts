import { abortReason, raceAbort } from '../abort.js';

interface Entry<T> {
  readonly promise: Promise<T>;
  /** Aborts the shared operation: once every caller waiting for it has given up. */
  readonly controller: AbortController;
  waiting: number;
  settled: boolean;
}

/**
 * One operation in flight per key, shared by every caller that asks for the same key while it
 * runs (the start of one task ID, the sweep of a `close`). Each caller's own signal is
 * honoured: it rejects that caller at once with the signal's reason, and the shared operation
 * goes on for the others. Only when every caller has given up is the operation aborted, so
 * that it removes what it made. A caller arriving then waits for that undoing to end and
 * starts afresh. Nothing is remembered once an operation settled.
 */
export class SharedOperations<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** @param scope aborts every operation too (the driver's lifetime), when given. */
  constructor(private readonly scope?: AbortSignal) {}

  /**
   * The operation in flight for `key`, else a new one: `operation` gets a signal that fires
   * when every caller has given up (or the scope ends).
   */
  run(key: string, signal: AbortSignal | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const current = this.entries.get(key);
    if (current !== undefined && current.controller.signal.aborted) {
      // Everyone left that one: it is undoing what it made. Start anew once it is done.
      const undone = current.promise.then(
        () => undefined,
        () => undefined,
      );
      return raceAbort(undone, signal).then(() => this.run(key, signal, operation));
    }
    const entry = current ?? this.begin(key, operation);
    return this.join(entry, signal);
  }

  /** Settles once every operation now in flight has settled, whatever its outcome. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.promise));
  }

  /** How many operations are in flight. */
  get size(): number {
    return this.entries.size;
  }

  private begin(key: string, operation: (signal: AbortSignal) => Promise<T>): Entry<T> {
    const controller = new AbortController();
    const signal = this.scope === undefined ? controller.signal : AbortSignal.any([controller.signal, this.scope]);
    const entry: Entry<T> = {
      controller,
      waiting: 0,
      settled: false,
      promise: Promise.resolve()
        .then(() => operation(signal))
        .finally(() => {
          entry.settled = true;
          if (this.entries.get(key) === entry) this.entries.delete(key);
        }),
    };
    // Callers see the outcome through `join`; one that nobody waits for any more must not surface as unhandled.
    entry.promise.catch(() => {});
    this.entries.set(key, entry);
    return entry;
  }

  private join(entry: Entry<T>, signal: AbortSignal | undefined): Promise<T> {
    entry.waiting += 1;
    if (signal === undefined) return entry.promise;
    const leave = (): void => {
      entry.waiting -= 1;
      if (entry.waiting === 0 && !entry.settled) entry.controller.abort(abortReason(signal));
    };
    signal.addEventListener('abort', leave, { once: true });
    const detach = (): void => signal.removeEventListener('abort', leave);
    entry.promise.then(detach, detach);
    return raceAbort(entry.promise, signal);
  }
}
