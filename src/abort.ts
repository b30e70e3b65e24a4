import { setTimeout as sleep } from 'node:timers/promises';

/**
 * AbortSignal helpers. Listeners are always removed and timers unref'd, so a
 * finished operation never keeps the process alive.
 */

/** Throws the signal's reason when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** The reason a signal fired with, as an Error (an `AbortError` DOMException when none was given). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

/** Settles like `promise`, or rejects with the signal's reason when it fires first. The promise keeps running. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const { promise: raced, resolve, reject } = Promise.withResolvers<T>();
  const onAbort = (): void => {
    promise.catch(() => {});
    reject(abortReason(signal));
  };
  if (signal.aborted) {
    onAbort();
    return raced;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  return raced;
}

/** A signal that fires when any of `signals` fires or after `timeoutMs` (when given). */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>, timeoutMs?: number): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (timeoutMs !== undefined) list.push(AbortSignal.timeout(timeoutMs));
  return AbortSignal.any(list);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it fires. The timer does not
 * keep the process alive, unless `keepAlive`: for a wait inside an operation a caller awaits
 * (e.g. `close`) while nothing else may be running.
 */
export async function delay(ms: number, signal?: AbortSignal, options: { keepAlive?: boolean } = {}): Promise<void> {
  try {
    await sleep(ms, undefined, { signal, ref: options.keepAlive === true });
  } catch (error) {
    // Node's timer rejects with its own AbortError; callers see the signal's reason.
    throw signal?.aborted ? abortReason(signal) : error;
  }
}

/** True for the errors an aborted signal produces. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
