import type { KObject, StoreApi } from '../api.js';
import type { PolicyRule } from './rbac.js';
import { AUTHENTICATED, SYSTEM_MASTERS, UNAUTHENTICATED } from './user.js';

/**
 * The default ClusterRoles and ClusterRoleBindings an RBAC API server reconciles at
 * start (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go `clusterRoles`,
 * `ClusterRoleBindings`), reduced to those a user of this server meets: cluster-admin,
 * discovery, basic-user, public-info-viewer, and the user-facing admin/edit/view with
 * their aggregated rules.
 */

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });

const AGGREGATE_TO_VIEW: PolicyRule[] = [
  rule(READ, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
  rule(READ, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
  rule(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
];

const AGGREGATE_TO_EDIT: PolicyRule[] = [
  rule(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  rule(WRITE, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'endpoints', 'persistentvolumeclaims', 'configmaps', 'secrets']),
  rule(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
  rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
];

const AGGREGATE_TO_ADMIN: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(READ_WRITE, ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
];

const aggregated = (label: string): object => ({ clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/${label}`]: 'true' } }] });

const CLUSTER_ROLES: Array<{ name: string; rules: PolicyRule[]; labels?: Record<string, string>; aggregationRule?: object }> = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }] },
  { name: 'system:discovery', rules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] }] },
  { name: 'system:basic-user', rules: [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])] },
  { name: 'system:public-info-viewer', rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }] },
  { name: 'system:aggregate-to-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, rules: AGGREGATE_TO_VIEW },
  { name: 'system:aggregate-to-edit', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, rules: AGGREGATE_TO_EDIT },
  { name: 'system:aggregate-to-admin', labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, rules: AGGREGATE_TO_ADMIN },
  // The aggregation controller fills these from the roles their selectors match; stored here already filled.
  { name: 'view', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, aggregationRule: aggregated('aggregate-to-view'), rules: AGGREGATE_TO_VIEW },
  { name: 'edit', labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, aggregationRule: aggregated('aggregate-to-edit'), rules: [...AGGREGATE_TO_EDIT, ...AGGREGATE_TO_VIEW] },
  { name: 'admin', aggregationRule: aggregated('aggregate-to-admin'), rules: [...AGGREGATE_TO_ADMIN, ...AGGREGATE_TO_EDIT, ...AGGREGATE_TO_VIEW] },
];

const group = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });

const CLUSTER_ROLE_BINDINGS: Array<{ name: string; subjects: object[] }> = [
  { name: 'cluster-admin', subjects: [group(SYSTEM_MASTERS)] },
  { name: 'system:basic-user', subjects: [group(AUTHENTICATED)] },
  { name: 'system:discovery', subjects: [group(AUTHENTICATED)] },
  { name: 'system:public-info-viewer', subjects: [group(AUTHENTICATED), group(UNAUTHENTICATED)] },
];

const DEFAULT_METADATA = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } };

/** Creates the default roles and bindings that are missing (the RBAC post-start hook reconciles them likewise). */
export function ensureBootstrapPolicy(store: StoreApi): void {
  for (const role of CLUSTER_ROLES) {
    if (store.get('clusterroles', undefined, role.name)) continue;
    const metadata = { name: role.name, labels: { ...DEFAULT_METADATA.labels, ...(role.labels ?? {}) }, annotations: DEFAULT_METADATA.annotations };
    store.create('clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: metadata as unknown as KObject['metadata'],
      rules: structuredClone(role.rules),
      ...(role.aggregationRule ? { aggregationRule: role.aggregationRule } : {}),
    });
  }
  for (const binding of CLUSTER_ROLE_BINDINGS) {
    if (store.get('clusterrolebindings', undefined, binding.name)) continue;
    store.create('clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding.name, ...structuredClone(DEFAULT_METADATA) } as unknown as KObject['metadata'],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: binding.name },
      subjects: binding.subjects,
    });
  }
}
