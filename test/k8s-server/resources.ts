/**
 * The resource kinds the local API server serves: one table that routing,
 * discovery, validation and tables read, so adding a kind is one entry.
 */

/** How one resource appears on the wire and in discovery. */
export interface ResourceInfo {
  /** URL plural, e.g. `pods`. */
  plural: string;
  singular: string;
  kind: string;
  /** `''` for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served besides the object itself (`status`, `log`, …). */
  subresources: string[];
  /** Verbs when not the full set (the create-only access reviews). */
  verbs?: string[];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceInfo[] = [
  { plural: 'namespaces', singular: 'namespace', kind: 'Namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'], categories: [], subresources: ['status'] },
  { plural: 'pods', singular: 'pod', kind: 'Pod', group: '', version: 'v1', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'exec', 'attach'] },
  { plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', group: '', version: 'v1', namespaced: true, shortNames: ['pvc'], categories: [], subresources: ['status'] },
  { plural: 'resourcequotas', singular: 'resourcequota', kind: 'ResourceQuota', group: '', version: 'v1', namespaced: true, shortNames: ['quota'], categories: [], subresources: ['status'] },
  { plural: 'events', singular: 'event', kind: 'Event', group: '', version: 'v1', namespaced: true, shortNames: ['ev'], categories: [], subresources: [] },
  { plural: 'secrets', singular: 'secret', kind: 'Secret', group: '', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true, shortNames: ['cm'], categories: [], subresources: [] },
  { plural: 'jobs', singular: 'job', kind: 'Job', group: 'batch', version: 'v1', namespaced: true, shortNames: [], categories: ['all'], subresources: ['status'] },
  { plural: 'deployments', singular: 'deployment', kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status'] },
  { plural: 'roles', singular: 'role', kind: 'Role', group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { plural: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: false, shortNames: [], categories: [], subresources: [] },
  { plural: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: false, shortNames: [], categories: [], subresources: [] },
  { plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', group: 'authorization.k8s.io', version: 'v1', namespaced: false, shortNames: [], categories: [], subresources: [], verbs: ['create'] },
  { plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', group: 'authorization.k8s.io', version: 'v1', namespaced: false, shortNames: [], categories: [], subresources: [], verbs: ['create'] },
  { plural: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', group: 'authentication.k8s.io', version: 'v1', namespaced: false, shortNames: [], categories: [], subresources: [], verbs: ['create'] },
  // coordination.k8s.io/v1 (pkg/apis/coordination, pkg/registry/coordination/lease): no subresources, every verb.
  { plural: 'leases', singular: 'lease', kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', namespaced: true, shortNames: [], categories: [], subresources: [] },
  { plural: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', group: 'storage.k8s.io', version: 'v1', namespaced: false, shortNames: ['sc'], categories: [], subresources: [] },
];

/** `v1` or `batch/v1`. */
export function groupVersion(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByPlural(plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.plural === plural);
}

/** Verbs listed in discovery for a resource or subresource. */
export function verbsOf(info: ResourceInfo, subresource?: string): string[] {
  if (!subresource) return info.verbs ?? VERBS;
  if (subresource === 'status') return ['get', 'patch', 'update'];
  if (subresource === 'log') return ['get'];
  return ['create', 'get'];
}

/** The Kind discovery reports for a subresource. */
export function subresourceKind(info: ResourceInfo, subresource: string): string {
  if (subresource === 'exec') return 'PodExecOptions';
  if (subresource === 'attach') return 'PodAttachOptions';
  return info.kind;
}
