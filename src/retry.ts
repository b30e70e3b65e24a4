import pRetry from 'p-retry';
import { delay } from './abort.js';

/** How long and how often a transient engine error is retried. */
export interface RetryPolicy {
  /** Attempts after the first. @default 5 */
  retries?: number;
  /** First back-off in ms. @default 100 */
  minTimeoutMs?: number;
  /** Longest back-off in ms. @default 2000 */
  maxTimeoutMs?: number;
  /** Total time budget in ms; no retry starts after it. @default 30000 */
  maxRetryTimeMs?: number;
}

/**
 * Runs `operation`, retrying while `isTransient(error)` says the error is safe to
 * repeat (connection refused/reset, 429, 5xx). A permanent error stops at once.
 * `retryAfterMs(error)` lets a 429's `Retry-After` set the next wait.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: {
    isTransient: (error: unknown) => boolean;
    retryAfterMs?: (error: unknown) => number | undefined;
    signal?: AbortSignal;
    policy?: RetryPolicy;
    /**
     * Told of each failure that is to be tried again: the attempt that failed (1 for the
     * first), how many are left after it and the back-off before the next, in ms.
     */
    onRetry?: (error: unknown, attempt: number, retriesLeft: number, delayMs: number) => void;
  },
): Promise<T> {
  const policy = options.policy ?? {};
  const maxTimeoutMs = policy.maxTimeoutMs ?? 2000;
  const retryable = (error: unknown): boolean => options.signal?.aborted !== true && options.isTransient(error);
  return pRetry(operation, {
    retries: policy.retries ?? 5,
    minTimeout: policy.minTimeoutMs ?? 100,
    maxTimeout: maxTimeoutMs,
    maxRetryTime: policy.maxRetryTimeMs ?? 30_000,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => retryable(error),
    // A 429's Retry-After is honoured (capped by the longest back-off) before the usual back-off.
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
      if (!retryable(error)) return;
      if (retriesLeft > 0) options.onRetry?.(error, attemptNumber, retriesLeft, retryDelay);
      const wait = options.retryAfterMs?.(error);
      if (wait !== undefined && wait > 0) await delay(Math.min(wait, maxTimeoutMs), options.signal).catch(() => {});
    },
  });
}

/** Network-level error codes that mean "try again" rather than "you asked wrong". */
export const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
