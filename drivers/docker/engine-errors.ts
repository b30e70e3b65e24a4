import {
  ConflictError,
  ContainerNotFoundError,
  ContainerStartError,
  DrivetrainError,
  EngineError,
  EngineUnavailableError,
  ImagePullError,
  NotFoundError,
} from '../../src/errors.js';
import { isAbortError } from '../../src/abort.js';
import { TRANSIENT_NETWORK_CODES } from '../../src/retry.js';

/**
 * The one place where dockerode errors become drivetrain errors. Classification
 * uses only the HTTP status code (`statusCode`) or the socket error `code`; the
 * engine's message is kept as the human-readable detail.
 */

/** What the failing call was about, so a 404 can say what was not found. */
export type EngineSubject =
  | { kind: 'container'; taskId: string; namespace: string }
  | { kind: 'image'; image: string }
  | { kind: 'volume'; name: string }
  | { kind: 'create' }
  | { kind: 'start' }
  | { kind: 'other'; what: string };

interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: unknown;
  message?: string;
}

/** The HTTP status of a dockerode error, if it has one. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as DockerodeError | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own message (`{"message": …}` body), else the error's message. */
export function engineMessage(error: unknown): string {
  const json = (error as DockerodeError | undefined)?.json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return error instanceof Error ? error.message : String(error);
}

/** True when the error says the engine could not be reached at all. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as DockerodeError | undefined)?.code;
  // ENOENT/EACCES: the socket file is missing or not ours (engine down or restarting).
  return typeof code === 'string' && (TRANSIENT_NETWORK_CODES.has(code) || code === 'ENOENT' || code === 'EACCES');
}

/** Errors worth repeating on a call that is safe to repeat. */
export function isTransient(error: unknown, idempotent: boolean): boolean {
  if (isUnreachable(error)) return true;
  const status = statusCodeOf(error);
  return idempotent && status !== undefined && status >= 502 && status <= 504;
}

/** Turns any error of a dockerode call into a typed drivetrain error (aborts and drivetrain errors pass through). */
export function normaliseError(error: unknown, subject: EngineSubject): Error {
  if (error instanceof DrivetrainError || isAbortError(error)) return error as Error;
  if (isUnreachable(error)) {
    return new EngineUnavailableError(`the Docker engine cannot be reached (${(error as DockerodeError).code}): ${engineMessage(error)}`, { cause: error });
  }
  const status = statusCodeOf(error);
  const message = engineMessage(error);
  if (status === 404) {
    switch (subject.kind) {
      case 'container':
        return new ContainerNotFoundError(subject.taskId, { namespace: subject.namespace, cause: error });
      case 'image':
        return new ImagePullError(subject.image, 'NotFound', message, { cause: error });
      case 'start':
        // At start, a 404 is something the configuration names (a network) or the container itself gone.
        return new ContainerStartError('StartError', message, { cause: error });
      case 'volume':
        return new NotFoundError(`volume "${subject.name}" does not exist: ${message}`, { cause: error });
      default:
        return new NotFoundError(message, { cause: error });
    }
  }
  if (status === 409) return new ConflictError(message, { cause: error });
  if (status === 400 || status === 500) {
    // The engine refused the configuration, or could not start the process (e.g. command not found).
    if (subject.kind === 'create') return new ContainerStartError('CreateContainerError', message, { cause: error });
    if (subject.kind === 'start') return new ContainerStartError('StartError', message, { cause: error });
  }
  if (subject.kind === 'image' && status !== undefined && status >= 400) {
    return new ImagePullError(subject.image, 'ErrImagePull', message, { cause: error });
  }
  return new EngineError(`Docker engine error${status === undefined ? '' : ` ${status}`}: ${message}`, status, { cause: error });
}

/** Why a failed call is worth another try, in short: `HTTP 503`, `ECONNREFUSED`, … */
export function retryReason(error: unknown): string {
  const status = statusCodeOf(error);
  if (status !== undefined) return `HTTP ${status}`;
  const code = (error as DockerodeError | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error';
}
