import type { KubeConfig } from '@kubernetes/client-node';
import { messageWithCause, statusCodeOf } from './api-errors.js';
import type { DoctorCheck } from '../../src/types.js';
import { clientNode } from './sdk.js';

/**
 * One rule of the driver's Role: API group, resource, subresource, verbs, and what needs it.
 * docs/rbac.md's Role grants exactly these (a test reads the Role from that page and runs the
 * conformance suite under it).
 */
export type Permission = readonly [group: string, resource: string, subresource: string, verbs: readonly string[], usedFor: string];

/** The API permissions the driver uses in its Kubernetes namespace. */
export const REQUIRED_PERMISSIONS: readonly Permission[] = [
  ['', 'pods', '', ['create', 'get', 'list', 'watch', 'delete'], 'tasks, sandboxes and volume helpers'],
  ['', 'pods', 'log', ['get'], 'logs()'],
  // A WebSocket upgrade is a GET, authorized as `get` (apiserver filters/authorization.go);
  // `create` for POST clients, and on the upgrade too from 1.35 (AuthorizePodWebsocketUpgradeCreatePermission).
  ['', 'pods', 'exec', ['create', 'get'], 'sandbox exec, execInWorkload and volume copies'],
  ['', 'pods', 'attach', ['create', 'get'], "a task's stdin"],
  ['', 'persistentvolumeclaims', '', ['create', 'get', 'list', 'delete'], 'volumes'],
  ['', 'events', '', ['list'], 'why a pod does not start'],
  ['batch', 'jobs', '', ['create', 'get', 'list', 'delete'], "mode: 'job'"],
  ['apps', 'deployments', '', ['get'], 'execInWorkload({ deployment })'],
  ['coordination.k8s.io', 'leases', '', ['create', 'get', 'update', 'list', 'delete'], 'the owner Lease and reaping orphaned namespaces'],
];

/** `create pods/exec`, `get apps/deployments`: how a permission is named in the report. */
export function permissionName(verb: string, group: string, resource: string, subresource: string): string {
  return `${verb} ${group === '' ? '' : `${group}/`}${resource}${subresource === '' ? '' : `/${subresource}`}`;
}

/** What to do about a denied permission: the Role rule that grants it. */
function grant(group: string, resource: string, subresource: string, verb: string): string {
  const full = subresource === '' ? resource : `${resource}/${subresource}`;
  return `grant it in the namespace's Role: apiGroups ["${group}"], resources ["${full}"], verbs ["${verb}"] (docs/rbac.md)`;
}

/**
 * One SelfSubjectAccessReview per verb of {@link REQUIRED_PERMISSIONS} in `namespace`. A server
 * without the review API yields `ok: null` with one shared detail (so a report can group them).
 */
export async function permissionChecks(kc: KubeConfig, namespace: string, signal?: AbortSignal): Promise<DoctorCheck[]> {
  const authorization = kc.makeApiClient(clientNode().AuthorizationV1Api);
  const checks: DoctorCheck[] = [];
  for (const [group, resource, subresource, verbs, usedFor] of REQUIRED_PERMISSIONS) {
    for (const verb of verbs) {
      signal?.throwIfAborted();
      const name = permissionName(verb, group, resource, subresource);
      try {
        const review = await authorization.createSelfSubjectAccessReview({
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace, verb, group, resource, ...(subresource === '' ? {} : { subresource }) } } },
        });
        const allowed = review.status?.allowed === true;
        const reason = review.status?.reason ? ` (${review.status.reason})` : '';
        checks.push({ name, ok: allowed, detail: allowed ? 'allowed' : `denied${reason}, needed for ${usedFor}: ${grant(group, resource, subresource, verb)}` });
      } catch (error) {
        const status = statusCodeOf(error);
        if (status === 404 || status === 405 || status === 501) {
          checks.push({ name, ok: null, detail: 'cannot verify: the server does not offer SelfSubjectAccessReview' });
        } else {
          checks.push({ name, ok: false, detail: `access review failed: ${messageWithCause(error)}` });
        }
      }
    }
  }
  return checks;
}
