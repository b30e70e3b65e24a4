import type { KObject, StoreApi } from '../api.js';
import { forbidden } from '../auth/forbidden.js';
import { generatedName } from '../store/store.js';
import { errors } from '../status.js';
import { namespacePolicy, podSecurityViolations, policyLabelErrors, policyName } from './pod-security.js';
import { admitPodQuota } from './quota.js';

/**
 * Validating admission of creates, in kube-apiserver's plugin order: PodSecurity, then
 * ResourceQuota (pkg/kubeapiserver/options/plugins.go `AllOrderedPlugins`). Pods created
 * by controllers pass through here too, as they do through the real API server.
 */

/** A name generated now, before admission, as the registry's BeforeCreate does, so refusals name the object. */
export function assignGeneratedName(object: KObject): void {
  if (!object.metadata.name && object.metadata.generateName) object.metadata.name = generatedName(object.metadata.generateName);
}

/** The pod template of a workload (PodSpecExtractor): jobs and deployments. */
function templateOf(resource: string, object: KObject): { metadata?: any; spec?: any } | undefined {
  if (resource === 'jobs' || resource === 'deployments') return object.spec?.template;
  return undefined;
}

/**
 * PodSecurity's check of a namespace create or update (admission/admission.go
 * `ValidateNamespace`): its Pod Security labels must parse, on update only when they changed
 * (`invalidResponse`: 422 Invalid, kind Namespace).
 */
export function admitNamespace(next: KObject, previous?: KObject): void {
  const causes = policyLabelErrors(next.metadata.labels);
  if (causes.length === 0) return;
  const before = previous ? policyLabelErrors(previous.metadata.labels) : [];
  if (previous && JSON.stringify(before) === JSON.stringify(causes)) return;
  throw errors.invalid('Namespace', next.metadata.name ?? '', causes);
}

/**
 * Admits a create: throws the 403 of a refusal, returns the warnings to send
 * (`Warning` headers). A `dryRun` is checked as any create, quota included, without charging it.
 */
export function admitCreate(store: StoreApi, resource: string, object: KObject, dryRun = false): string[] {
  const namespace = object.metadata.namespace ? store.get('namespaces', undefined, object.metadata.namespace) : undefined;
  const policy = namespacePolicy(namespace);
  const warnings: string[] = [];
  if (resource === 'namespaces') admitNamespace(object);
  if (resource === 'pods') {
    const name = object.metadata.name ?? '';
    // admission.go EvaluatePod with enforce=true.
    const violation = podSecurityViolations(policy.enforce.level, object.metadata, object.spec);
    if (violation) throw forbidden('', 'pods', name, `violates PodSecurity ${JSON.stringify(policyName(policy.enforce))}: ${violation}`);
    const warning = podSecurityViolations(policy.warn.level, object.metadata, object.spec);
    if (warning) warnings.push(`would violate PodSecurity ${JSON.stringify(policyName(policy.warn))}: ${warning}`);
    const refused = admitPodQuota(store, object, dryRun);
    if (refused) throw forbidden('', 'pods', name, refused);
    return warnings;
  }
  const template = templateOf(resource, object);
  if (template) {
    // ValidatePodController: workloads are only warned about (and audited), never refused.
    const warning = podSecurityViolations(policy.warn.level, template.metadata, template.spec);
    if (warning) warnings.push(`would violate PodSecurity ${JSON.stringify(policyName(policy.warn))}: ${warning}`);
  }
  return warnings;
}

/** The `Warning` header value of these warnings (net.NewWarningHeader: 299, agent "-", quoted text). */
export function warningHeader(warnings: string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - "${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(', ') };
}
