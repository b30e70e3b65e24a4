import type Dockerode from 'dockerode';
import { withRetry, type RetryPolicy } from '../../src/retry.js';
import { abortReason, anySignal, raceAbort } from '../../src/abort.js';
import type { DriverEvents } from '../../src/kit/events.js';
import type { DriverLifecycle } from '../../src/kit/lifecycle.js';
import { isTransient, normaliseError, retryReason, type EngineSubject } from './engine-errors.js';
import type { ResolvedDockerOptions } from './options.js';
import type { ImageResolver } from './images.js';
import type { Deadlines } from './deadlines.js';
import { dropIdleConnections } from './idle-connections.js';

/** Everything the driver's parts share: the client, the options, and the one way to call the engine. */
export interface DockerContext {
  readonly options: ResolvedDockerOptions;
  readonly namespace: string;
  /** The Docker client, created on first use. */
  docker(): Dockerode;
  readonly images: ImageResolver;
  /** The driver's lifecycle: open or closed, its lifetime signal, its events. */
  readonly life: DriverLifecycle;
  /** Fires when the driver is closed: in-flight operations stop and remove what they made. */
  readonly lifetime: AbortSignal;
  /** Throws `DriverClosedError` once the driver is closed. */
  assertOpen(): void;
  /** Task deadlines armed by this driver instance. */
  readonly deadlines: Deadlines;
}

/** How an engine call may be repeated. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Safe to repeat after a 5xx (reads, removals, kills). Connection failures are always retried: the request never arrived. */
  idempotent?: boolean;
}

/**
 * Runs one dockerode call: transient failures are retried within the driver's
 * retry budget (each retry published with its reason), and whatever still fails is
 * normalised once, here.
 */
export function engineCall<T>(ctx: DockerContext, subject: EngineSubject, operation: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  return callEngine(ctx.options.retry, subject, operation, options, ctx.life.events);
}

/** {@link engineCall} for callers without a driver (e.g. image publishing), under the given retry policy. */
export async function callEngine<T>(retry: RetryPolicy, subject: EngineSubject, operation: () => Promise<T>, options: CallOptions = {}, events?: DriverEvents): Promise<T> {
  const onRetry =
    events === undefined
      ? undefined
      : (error: unknown, attempt: number, retriesLeft: number, delayMs: number): void => {
          if (events.active('engineRetry')) events.emit('engineRetry', { operation: describeSubject(subject), attempt, reason: retryReason(error), retriesLeft, delayMs });
        };
  try {
    return await raceAbort(
      withRetry(() => operation(), {
        isTransient: (error) => isTransient(error, options.idempotent ?? false),
        signal: options.signal,
        policy: retry,
        ...(onRetry === undefined ? {} : { onRetry }),
      }),
      options.signal,
    );
  } catch (error) {
    // An abort surfaces as the caller's own reason, whatever it is (not wrapped as an engine error).
    if (options.signal?.aborted) throw abortReason(options.signal);
    throw normaliseError(error, subject);
  }
}

/** What a call was about, in words, for the retry events. */
function describeSubject(subject: EngineSubject): string {
  switch (subject.kind) {
    case 'container':
      return `container of task ${JSON.stringify(subject.taskId)}`;
    case 'image':
      return `image ${subject.image}`;
    case 'volume':
      return `volume ${subject.name}`;
    case 'create':
      return 'container create';
    case 'start':
      return 'container start';
    default:
      return subject.what;
  }
}

/**
 * {@link engineCall} of a call a live engine answers at once (an inspect). An answer that
 * does not come within `livenessIntervalMs` means a half-open connection (a pooled
 * keep-alive socket whose packets vanish): the request is dropped, which drops its socket,
 * the pool's idle connections to the engine go with it (they share its fate), and the call is
 * retried on a fresh connection like any lost connection; once the retries are spent
 * the caller gets `EngineUnavailableError`.
 */
export function quickEngineCall<T>(ctx: DockerContext, subject: EngineSubject, operation: (signal: AbortSignal) => Promise<T>, options: CallOptions = {}): Promise<T> {
  const boundMs = ctx.options.livenessIntervalMs;
  return engineCall(
    ctx,
    subject,
    async () => {
      const bound = new AbortController();
      const timer = setTimeout(() => bound.abort(), boundMs);
      try {
        return await operation(anySignal([options.signal, bound.signal]));
      } catch (error) {
        if (!bound.signal.aborted || options.signal?.aborted === true) throw error;
        dropIdleConnections(ctx.docker());
        throw Object.assign(new Error(`no answer within ${boundMs} ms (livenessIntervalMs): a half-open connection`), { code: 'ETIMEDOUT', cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
    { ...options, idempotent: true },
  );
}
