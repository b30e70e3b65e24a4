/**
 * Kubernetes `Status` errors, shaped as apimachinery's errors.go builds them, so
 * kubectl and client-node read code, reason and details exactly as from a real server.
 */

/** The metav1.Status body of a failed request. */
export interface K8sStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** One field problem of a 422 Invalid. */
export interface StatusCause {
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong' | string;
  message: string;
  field: string;
}

/** An API error the HTTP layer turns into a Status response. */
export class StatusError extends Error {
  constructor(readonly status: K8sStatus) {
    super(status.message);
    this.name = 'StatusError';
  }
  get code(): number {
    return this.status.code;
  }
}

function statusError(code: number, reason: string, message: string, details?: K8sStatus['details']): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** `resource` is the plural (`pods`); `group` is omitted for the core group. */
function qualified(resource: string, group?: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound: (resource: string, name: string, group?: string) =>
    statusError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource }),
  alreadyExists: (resource: string, name: string, group?: string) =>
    statusError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource }),
  conflict: (resource: string, name: string, group?: string) =>
    statusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, ...(group ? { group } : {}), kind: resource },
    ),
  /** `kind` is the object Kind (`Pod`); each cause names its field. */
  invalid: (kind: string, name: string, causes: StatusCause[], group?: string) => {
    const parts = causes.map((c) => `${c.field}: ${c.message}`);
    const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    // apimachinery errors.NewInvalid: the message names the GroupKind (`Job.batch`, `Role.rbac.authorization.k8s.io`).
    return statusError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${joined}`, { name, ...(group ? { group } : {}), kind, causes });
  },
  badRequest: (message: string) => statusError(400, 'BadRequest', message),
  forbidden: (resource: string, name: string, why: string, group?: string) =>
    statusError(403, 'Forbidden', `${qualified(resource, group)} "${name}" is forbidden: ${why}`, { name, ...(group ? { group } : {}), kind: resource }),
  methodNotAllowed: (message: string) => statusError(405, 'MethodNotAllowed', message),
  tooManyRequests: (retryAfterSeconds: number) =>
    statusError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds }),
  internal: (message: string) => statusError(500, 'InternalError', `Internal error occurred: ${message}`),
  expired: (message: string) => statusError(410, 'Expired', message),
};
