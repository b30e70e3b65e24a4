import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../status.js';
import type { Attributes } from './attributes.js';
import { forbiddenResponse, type Decision } from './forbidden.js';
import { ANONYMOUS, AUTHENTICATED, serviceAccountGroups, serviceAccountUsername, splitServiceAccountUsername, UNAUTHENTICATED, type UserInfo } from './user.js';

/**
 * `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and `Impersonate-Extra-*`
 * (kubectl `--as`, `--as-group`), as k8s.io/apiserver/pkg/endpoints/filters/impersonation.go
 * `WithImpersonation` handles them: each one must be allowed the `impersonate` verb.
 */

const values = (headers: IncomingHttpHeaders, name: string): string[] => {
  const value = headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((v) => v.trim()).filter((v) => v !== '');
};

/** The user the request acts as: `requestor` itself when nothing is impersonated. Throws 400/403. */
export function impersonate(headers: IncomingHttpHeaders, requestor: UserInfo, authorize: (a: Attributes) => Decision): UserInfo {
  const requestedUser = String(headers['impersonate-user'] ?? '');
  const requestedGroups = values(headers, 'impersonate-group');
  const requestedUid = String(headers['impersonate-uid'] ?? '');
  const extraHeaders = Object.keys(headers).filter((h) => h.startsWith('impersonate-extra-'));
  if (!requestedUser) {
    if (requestedGroups.length || requestedUid || extraHeaders.length) throw errors.badRequest('requested [impersonation] without impersonating a user');
    return requestor;
  }
  const base: Omit<Attributes, 'resource' | 'name'> = { user: requestor, verb: 'impersonate', resourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', subresource: '', namespace: '' };
  const check = (a: Attributes) => {
    const decision = authorize(a);
    if (!decision.allowed) throw forbiddenResponse(a, decision.reason);
  };
  let groups: string[] = [];
  const serviceAccount = splitServiceAccountUsername(requestedUser);
  let name = requestedUser;
  if (serviceAccount) {
    check({ ...base, resource: 'serviceaccounts', namespace: serviceAccount.namespace, name: serviceAccount.name });
    name = serviceAccountUsername(serviceAccount.namespace, serviceAccount.name);
    if (requestedGroups.length === 0) groups = serviceAccountGroups(serviceAccount.namespace);
  } else {
    check({ ...base, resource: 'users', name: requestedUser });
  }
  for (const group of requestedGroups) {
    check({ ...base, resource: 'groups', name: group });
    groups.push(group);
  }
  const extra: Record<string, string[]> = {};
  for (const header of extraHeaders) {
    const key = decodeURIComponent(header.slice('impersonate-extra-'.length));
    for (const value of values(headers, header)) {
      check({ ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value });
      (extra[key] ??= []).push(value);
    }
  }
  if (requestedUid) check({ ...base, apiGroup: 'authentication.k8s.io', resource: 'uids', name: requestedUid });
  if (name !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
  return { name, groups, ...(requestedUid ? { uid: requestedUid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}
