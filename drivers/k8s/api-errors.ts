import type { ApiException } from '@kubernetes/client-node';
import { abortReason, isAbortError, raceAbort } from '../../src/abort.js';
import {
  ConflictError,
  DrivetrainError,
  EngineError,
  EngineUnavailableError,
  InvalidInputError,
  NotFoundError,
} from '../../src/errors.js';
import { TRANSIENT_NETWORK_CODES, withRetry, type RetryPolicy } from '../../src/retry.js';
import { clientNode } from './sdk.js';

/**
 * The one place where client-node errors become drivetrain errors: by HTTP status
 * code (`ApiException.code`) and the Status body's `reason`, never by message text.
 */

/** The Kubernetes Status body of a failed request, when there is one. */
export interface StatusBody {
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: Array<{ field?: string; message?: string; reason?: string }>; retryAfterSeconds?: number };
}

/** Whether `error` is client-node's `ApiException` (the SDK is loaded by then: a driver loads it when created). */
function isApiException(error: unknown): error is ApiException<unknown> {
  return error instanceof clientNode().ApiException;
}

/** The HTTP status of a client-node error (ApiException, watch error), if any. */
export function statusCodeOf(error: unknown): number | undefined {
  if (isApiException(error)) return error.code;
  const e = error as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** The parsed Status body of an ApiException (client-node gives it parsed or as text). */
export function statusBodyOf(error: unknown): StatusBody | undefined {
  if (!isApiException(error)) return undefined;
  const body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined;
}

/** 429, 5xx (except 501) and connection-level failures are worth another try. */
export function isTransient(error: unknown): boolean {
  if (error instanceof DrivetrainError || isAbortError(error)) return false;
  const status = statusCodeOf(error);
  if (status !== undefined) return status === 429 || (status >= 500 && status !== 501);
  // fetch (undici, client-node's transport) rejects with `TypeError: fetch failed` and the
  // system or undici code on its `cause`; node's own requests carry it on the error.
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code);
}

/** A 429's Retry-After (header or Status details), in ms. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!isApiException(error)) return undefined;
  const header = error.headers?.['retry-after'] ?? error.headers?.['Retry-After'];
  const seconds = header === undefined ? statusBodyOf(error)?.details?.retryAfterSeconds : Number(header);
  return seconds === undefined || !Number.isFinite(seconds) ? undefined : seconds * 1000;
}

/** An error's message and its cause's: fetch (client-node's transport) says only "fetch failed" and puts why on `cause`. */
export function messageWithCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause === undefined || cause === '' || error.message.includes(cause) ? error.message : `${error.message}: ${cause}`;
}

/** `error` as a drivetrain error; `what` says which request failed (e.g. `create pod "x"`). */
export function normaliseError(error: unknown, what: string): Error {
  if (error instanceof DrivetrainError || isAbortError(error)) return error as Error;
  const status = statusCodeOf(error);
  const body = statusBodyOf(error);
  const detail = body?.message ?? messageWithCause(error);
  if (status === undefined) {
    return new EngineUnavailableError(`Kubernetes API unreachable (${what}): ${detail}`, { cause: error });
  }
  switch (status) {
    case 404:
      return new NotFoundError(`${what}: not found (${detail})`, { cause: error });
    case 409:
      return new ConflictError(`${what}: ${body?.reason === 'AlreadyExists' ? 'already exists' : 'conflict'} (${detail})`, { cause: error });
    case 422: {
      const cause = body?.details?.causes?.[0];
      return new InvalidInputError(cause?.field ?? what, `a value Kubernetes accepts (${cause?.message ?? detail})`, undefined, { cause: error });
    }
    case 401:
    case 403:
      return new EngineError(`${what}: ${status === 401 ? 'unauthorised' : 'forbidden'} (${detail}); check the credentials and RBAC, e.g. \`kubectl auth can-i --list\``, status, { cause: error });
    default:
      return status >= 500 || status === 429
        ? new EngineUnavailableError(`${what}: Kubernetes API answered ${status} (${detail})`, { cause: error })
        : new EngineError(`${what}: Kubernetes API answered ${status} (${detail})`, status, { cause: error });
  }
}

/** True for a 409 whose Status reason is AlreadyExists (a create that lost a race). */
export function isAlreadyExists(error: unknown): boolean {
  const cause = error instanceof DrivetrainError ? error.cause : error;
  return statusCodeOf(cause) === 409 && statusBodyOf(cause)?.reason === 'AlreadyExists';
}

/** True for a 404 (as a raw or normalised error). */
export function isNotFound(error: unknown): boolean {
  return error instanceof NotFoundError || statusCodeOf(error) === 404;
}

/** Runs one API request: transient failures retried on a bounded budget, the rest normalised at once. */
export async function callApi<T>(
  what: string,
  request: () => Promise<T>,
  options: { signal?: AbortSignal; policy?: RetryPolicy; onRetry?: (error: unknown, attempt: number, retriesLeft: number, delayMs: number) => void } = {},
): Promise<T> {
  options.signal?.throwIfAborted();
  try {
    const retry = { isTransient, retryAfterMs, signal: options.signal, policy: options.policy, ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }) };
    return await raceAbort(withRetry(() => request(), retry), options.signal);
  } catch (error) {
    // An abort surfaces as the caller's own reason, untouched.
    if (options.signal?.aborted) throw abortReason(options.signal);
    throw normaliseError(error, what);
  }
}

/** Why a failed request is worth another try, in short: `HTTP 429`, `HTTP 503`, `ECONNRESET`, … */
export function retryReason(error: unknown): string {
  const status = statusCodeOf(error);
  if (status !== undefined) return `HTTP ${status}`;
  const code = (error as { code?: unknown } | null)?.code ?? ((error as { cause?: { code?: unknown } } | null)?.cause?.code);
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error';
}
