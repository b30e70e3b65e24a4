import type { KObject } from '../api.js';
import { canonical } from '../store/canonical.js';
import type { Causes } from '../validation.js';

/**
 * Defaults and validation of rbac.authorization.k8s.io/v1 objects, as
 * pkg/apis/rbac/v1/defaults.go and pkg/apis/rbac/validation/validation.go do them.
 */

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject: the API groups a manifest may leave out. */
export function defaultRbacObject(resource: string, object: KObject): void {
  if (resource !== 'rolebindings' && resource !== 'clusterrolebindings') return;
  const binding = object as { roleRef?: { apiGroup?: string }; subjects?: Array<{ kind?: string; apiGroup?: string }> };
  if (binding.roleRef && !binding.roleRef.apiGroup) binding.roleRef.apiGroup = RBAC_GROUP;
  for (const subject of binding.subjects ?? []) {
    if (subject && !subject.apiGroup && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = RBAC_GROUP;
  }
}

const RBAC_KINDS = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);

/**
 * RBAC object names are path segments (`system:basic-user` is valid), checked with
 * apimachinery's `path.ValidatePathSegmentName` instead of DNS rules; undefined for other kinds.
 */
export function rbacNameProblems(resource: string, name: string): string[] | undefined {
  if (!RBAC_KINDS.has(resource)) return undefined;
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** `validatePolicyRule`. */
function checkRule(causes: Causes, field: string, rule: any, namespaced: boolean): void {
  const list = (value: unknown) => (Array.isArray(value) ? value : []);
  if (list(rule?.verbs).length === 0) causes.required(`${field}.verbs`, 'verbs must contain at least one value');
  if (list(rule?.nonResourceURLs).length > 0) {
    if (namespaced) causes.invalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs');
    if (list(rule.apiGroups).length || list(rule.resources).length || list(rule.resourceNames).length) {
      causes.invalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs');
    }
    return;
  }
  if (list(rule?.apiGroups).length === 0) causes.required(`${field}.apiGroups`, 'resource rules must supply at least one api group');
  if (list(rule?.resources).length === 0) causes.required(`${field}.resources`, 'resource rules must supply at least one resource');
}

/** `validateRoleBindingSubject`. */
function checkSubject(causes: Causes, field: string, subject: any, namespaced: boolean): void {
  if (!subject?.name) causes.required(`${field}.name`);
  switch (subject?.kind) {
    case 'ServiceAccount':
      if (subject.apiGroup) causes.notSupported(`${field}.apiGroup`, subject.apiGroup, ['']);
      if (!namespaced && !subject.namespace) causes.required(`${field}.namespace`);
      return;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP) causes.notSupported(`${field}.apiGroup`, subject.apiGroup, [RBAC_GROUP]);
      return;
    default:
      causes.notSupported(`${field}.kind`, subject?.kind, ['ServiceAccount', 'User', 'Group']);
  }
}

/** `ValidateRole`, `ValidateClusterRole`, `ValidateRoleBinding`, `ValidateClusterRoleBinding`. */
export function checkRbacObject(resource: string, object: any, causes: Causes): void {
  const namespaced = resource === 'roles' || resource === 'rolebindings';
  if (resource === 'roles' || resource === 'clusterroles') {
    (Array.isArray(object.rules) ? object.rules : []).forEach((rule: unknown, i: number) => checkRule(causes, `rules[${i}]`, rule, namespaced));
    return;
  }
  const ref = object.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) causes.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]);
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) causes.notSupported('roleRef.kind', ref.kind ?? '', kinds);
  if (!ref.name) causes.required('roleRef.name');
  (Array.isArray(object.subjects) ? object.subjects : []).forEach((subject: unknown, i: number) => checkSubject(causes, `subjects[${i}]`, subject, namespaced));
}

/** `ValidateRoleBindingUpdate`: the role a binding grants cannot change. */
export function checkRbacUpdate(resource: string, before: any, after: any, causes: Causes): void {
  if (resource !== 'rolebindings' && resource !== 'clusterrolebindings') return;
  if (canonical(before.roleRef) === canonical(after.roleRef)) return;
  // The value is the internal rbac.RoleRef, which field.Error prints with json.Marshal: no JSON tags.
  const ref = after.roleRef ?? {};
  causes.invalid('roleRef', { APIGroup: ref.apiGroup ?? '', Kind: ref.kind ?? '', Name: ref.name ?? '' }, 'cannot change roleRef');
}
