import type { KObject, StoreApi } from '../api.js';
import type { Attributes } from './attributes.js';
import { serviceAccountUsername, type UserInfo } from './user.js';

/**
 * The RBAC authorizer: rules of the Roles and ClusterRoles bound to a user, visited
 * as plugin/pkg/auth/authorizer/rbac/rbac.go `Authorize` and
 * pkg/registry/rbac/validation/rule.go `VisitRulesFor` visit them, matched as
 * pkg/apis/rbac/v1/evaluation_helpers.go matches them.
 */

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  apiGroup?: string;
  kind?: string;
  name?: string;
}

const has = (list: string[] | undefined, value: string) => (list ?? []).some((item) => item === '*' || item === value);

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`));
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((url) => url === '*' || url === path || (url.endsWith('*') && path.startsWith(url.slice(0, -1))));
}

/** rbac.go `RuleAllows`. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const names = rule.resourceNames ?? [];
  return has(rule.apiGroups, a.apiGroup) && resourceMatches(rule, combined, a.subresource) && (names.length === 0 || names.includes(a.name));
}

/** rule.go `appliesToUser`: a ServiceAccount subject without namespace means the binding's own. */
function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name ?? '');
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && serviceAccountUsername(namespace, subject.name ?? '') === user.name;
    }
    default:
      return false;
  }
}

/** rule.go `describeSubject`. */
function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${subject.name}/${subject.namespace || bindingNamespace}`)}`;
  return `${subject.kind} ${JSON.stringify(subject.name)}`;
}

/** A rule and the binding that grants it, as `clusterRoleBindingDescriber` / `roleBindingDescriber` print it. */
export interface GrantedRule {
  rule: PolicyRule;
  source: string;
}

/** What visiting a user's bindings found: rules, and errors resolving role references (missing roles). */
export interface ResolvedRules {
  rules: GrantedRule[];
  errors: string[];
}

/** rule.go `GetRoleReferenceRules`; a missing role is an error worded as the listers' NotFound. */
function roleRules(store: StoreApi, ref: RoleRef, namespace: string): PolicyRule[] | string {
  if (ref.kind === 'Role') {
    const role = store.get('roles', namespace, ref.name ?? '');
    return role ? ((role as { rules?: PolicyRule[] }).rules ?? []) : `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  if (ref.kind === 'ClusterRole') {
    const role = store.get('clusterroles', undefined, ref.name ?? '');
    return role ? ((role as { rules?: PolicyRule[] }).rules ?? []) : `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  return `unsupported role reference kind: ${JSON.stringify(ref.kind)}`;
}

/**
 * Every rule that applies to `user` in `namespace` ('' for cluster scope): cluster
 * role bindings first, then the namespace's role bindings (`VisitRulesFor`).
 */
export function rulesFor(store: StoreApi, user: UserInfo, namespace: string): ResolvedRules {
  const result: ResolvedRules = { rules: [], errors: [] };
  const visit = (binding: KObject, bindingNamespace: string, kind: string) => {
    const subjects: Subject[] = (binding as { subjects?: Subject[] }).subjects ?? [];
    const subject = subjects.find((s) => appliesTo(user, s, bindingNamespace));
    if (!subject) return;
    const ref: RoleRef = (binding as { roleRef?: RoleRef }).roleRef ?? {};
    const rules = roleRules(store, ref, bindingNamespace);
    if (typeof rules === 'string') {
      result.errors.push(rules);
      return;
    }
    const name = kind === 'RoleBinding' ? `${binding.metadata.name}/${bindingNamespace}` : binding.metadata.name;
    const source = `${kind} ${JSON.stringify(name)} of ${ref.kind} ${JSON.stringify(ref.name)} to ${describeSubject(subject, bindingNamespace)}`;
    for (const rule of rules) result.rules.push({ rule, source });
  };
  for (const binding of store.list('clusterrolebindings')) visit(binding, '', 'ClusterRoleBinding');
  if (namespace) for (const binding of store.list('rolebindings', namespace)) visit(binding, namespace, 'RoleBinding');
  return result;
}

/** utilerrors.NewAggregate's text: one error alone, several in brackets. */
export function aggregate(errors: string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
}

/** The RBAC decision: allowed with the granting binding as reason, or no opinion with resolution errors as reason. */
export function rbacAuthorize(store: StoreApi, a: Attributes): { allowed: boolean; reason: string } {
  const { rules, errors } = rulesFor(store, a.user, a.namespace);
  const granted = rules.find(({ rule }) => ruleAllows(a, rule));
  if (granted) return { allowed: true, reason: `RBAC: allowed by ${granted.source}` };
  return { allowed: false, reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
}
