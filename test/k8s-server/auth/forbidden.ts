import { StatusError, type K8sStatus } from '../status.js';
import type { Attributes } from './attributes.js';

/** An authorizer's answer (authorizer.Decision: Allow or NoOpinion; nothing here denies outright). */
export interface Decision {
  allowed: boolean;
  reason: string;
}

function status(code: number, reason: string, message: string, details?: K8sStatus['details']): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** apierrors.NewForbidden for a group-resource (empty for non-resource requests) and name. */
export function forbidden(group: string, resource: string, name: string, detail: string): StatusError {
  const qualified = group ? `${resource}.${group}` : resource;
  const message = !resource ? `forbidden: ${detail}` : name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${detail}` : `${qualified} is forbidden: ${detail}`;
  const details = { ...(name ? { name } : {}), ...(group ? { group } : {}), ...(resource ? { kind: resource } : {}) };
  return status(403, 'Forbidden', message, details);
}

/**
 * The 403 of the authorization filter, as responsewriters `Forbidden` and
 * `forbiddenMessage` (endpoints/handlers/responsewriters/errors.go) word it.
 */
export function forbiddenResponse(a: Attributes, reason: string): StatusError {
  let message: string;
  if (!a.resourceRequest) message = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    message = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  }
  return forbidden(a.resourceRequest ? a.apiGroup : '', a.resourceRequest ? a.resource : '', a.name, reason ? `${message}: ${reason}` : message);
}

/** The 401 of a request whose credentials nobody issued. */
export function unauthorized(): StatusError {
  return status(401, 'Unauthorized', 'Unauthorized');
}
