import type { KObject } from './api.js';
import type { ResourceInfo } from './resources.js';
import { errors, type StatusCause } from './status.js';
import { checkRbacObject, checkRbacUpdate, rbacNameProblems } from './auth/validation.js';
import { canonical } from './store/canonical.js';
import { checkLeaseSpec } from './coordination.js';
import { labelSelectorMatcher, type LabelSelectorObject } from './store/selectors.js';

/**
 * Strict validation of the stored kinds, with 422 causes naming the field as
 * apimachinery's field errors do (`spec.containers[0].image: Required value`).
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Collects causes for one object. */
export class Causes {
  readonly list: StatusCause[] = [];
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', message: `Required value${detail ? `: ${detail}` : ''}`, field });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field });
  }
  notSupported(field: string, value: unknown, allowed: string[]): void {
    this.list.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`, field });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
  }
  throwIfAny(kind: string, name: string, group?: string): void {
    if (this.list.length > 0) throw errors.invalid(kind, name, this.list, group);
  }
}

export function checkName(causes: Causes, field: string, name: unknown, label: boolean): void {
  if (typeof name !== 'string' || name === '') return causes.required(field, 'name or generateName is required');
  const max = label ? 63 : 253;
  if (name.length > max) return causes.invalid(field, name, `must be no more than ${max} characters`);
  if (!(label ? DNS_LABEL : DNS_SUBDOMAIN).test(name)) causes.invalid(field, name, label ? LABEL_MSG : SUBDOMAIN_MSG);
}

/** Label keys (optional DNS-subdomain prefix + name ≤63) and values (≤63, may be empty). */
export function checkLabels(causes: Causes, field: string, labels: unknown): void {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== 'object') return causes.invalid(field, labels, 'must be an object');
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) causes.invalid(field, key, `prefix part ${SUBDOMAIN_MSG}`);
    if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
      causes.invalid(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be no more than 63 characters");
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      causes.invalid(`${field}`, value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be no more than 63 characters");
    }
  }
}

function checkContainers(causes: Causes, base: string, list: unknown, required: boolean): void {
  if (list === undefined && !required) return;
  if (!Array.isArray(list) || list.length === 0) return causes.required(base);
  const seen = new Set<string>();
  list.forEach((c: any, i: number) => {
    const field = `${base}[${i}]`;
    if (!c || typeof c !== 'object') return causes.invalid(field, c, 'must be an object');
    if (!c.name) causes.required(`${field}.name`);
    else {
      if (!DNS_LABEL.test(c.name) || c.name.length > 63) causes.invalid(`${field}.name`, c.name, LABEL_MSG);
      if (seen.has(c.name)) causes.list.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(c.name)}`, field: `${field}.name` });
      seen.add(c.name);
    }
    if (!c.image || typeof c.image !== 'string' || c.image.trim() === '') causes.required(`${field}.image`);
    if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
      causes.notSupported(`${field}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
    }
    if (c.command !== undefined && !Array.isArray(c.command)) causes.invalid(`${field}.command`, c.command, 'must be a list of strings');
    if (c.args !== undefined && !Array.isArray(c.args)) causes.invalid(`${field}.args`, c.args, 'must be a list of strings');
    (Array.isArray(c.env) ? c.env : []).forEach((e: any, j: number) => {
      if (!e?.name) causes.required(`${field}.env[${j}].name`);
    });
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (c[probe] !== undefined && c[probe] !== null) checkProbe(causes, `${field}.${probe}`, c[probe]);
  });
}

/** A probe: exactly one handler, non-negative numbers (pkg/apis/core/validation validateProbe, validateHandler). */
function checkProbe(causes: Causes, field: string, probe: any): void {
  if (typeof probe !== 'object') return causes.invalid(field, probe, 'must be an object');
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((key) => probe[key] !== undefined && probe[key] !== null);
  if (handlers.length === 0) causes.required(field, 'must specify a handler type');
  if (handlers.length > 1) causes.list.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 handler type', field });
  for (const key of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    if (probe[key] !== undefined && !(Number.isInteger(probe[key]) && probe[key] >= 0)) causes.invalid(`${field}.${key}`, probe[key], 'must be greater than or equal to 0');
  }
  if (probe.exec && !(Array.isArray(probe.exec.command) && probe.exec.command.length > 0)) causes.required(`${field}.exec.command`);
  if (probe.tcpSocket && (probe.tcpSocket.port === undefined || probe.tcpSocket.port === null || probe.tcpSocket.port === '')) causes.required(`${field}.tcpSocket.port`);
}

/** Pod spec rules, shared by pods and job/deployment templates. */
export function checkPodSpec(causes: Causes, base: string, spec: any, allowedRestart: string[]): void {
  if (!spec || typeof spec !== 'object') return causes.required(base);
  checkContainers(causes, `${base}.containers`, spec.containers, true);
  checkContainers(causes, `${base}.initContainers`, spec.initContainers, false);
  if (spec.restartPolicy !== undefined && !allowedRestart.includes(spec.restartPolicy)) {
    causes.notSupported(`${base}.restartPolicy`, spec.restartPolicy, allowedRestart);
  }
  if (spec.activeDeadlineSeconds !== undefined && !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)) {
    causes.invalid(`${base}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive');
  }
  if (spec.terminationGracePeriodSeconds !== undefined && !(Number.isInteger(spec.terminationGracePeriodSeconds) && spec.terminationGracePeriodSeconds >= 0)) {
    causes.invalid(`${base}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0');
  }
  const volumes = new Set<string>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: any, i: number) => {
    if (!v?.name) causes.required(`${base}.volumes[${i}].name`);
    else volumes.add(v.name);
  });
  for (const kind of ['containers', 'initContainers']) {
    (Array.isArray(spec[kind]) ? spec[kind] : []).forEach((c: any, i: number) => {
      (Array.isArray(c?.volumeMounts) ? c.volumeMounts : []).forEach((m: any, j: number) => {
        const field = `${base}.${kind}[${i}].volumeMounts[${j}]`;
        if (!m?.name) causes.required(`${field}.name`);
        else if (!volumes.has(m.name)) causes.list.push({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(m.name)}`, field: `${field}.name` });
        if (!m?.mountPath) causes.required(`${field}.mountPath`);
      });
    });
  }
}

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

function checkSpec(info: ResourceInfo, object: KObject, causes: Causes): void {
  const spec = object.spec;
  switch (info.plural) {
    case 'pods':
      return checkPodSpec(causes, 'spec', spec, ['Always', 'OnFailure', 'Never']);
    case 'persistentvolumeclaims': {
      const modes = spec?.accessModes;
      if (!Array.isArray(modes) || modes.length === 0) causes.required('spec.accessModes', 'at least 1 access mode is required');
      else modes.forEach((m: unknown, i: number) => !ACCESS_MODES.includes(m as string) && causes.notSupported(`spec.accessModes[${i}]`, m, ACCESS_MODES));
      if (!spec?.resources?.requests?.storage) causes.required('spec.resources[storage]');
      return;
    }
    case 'jobs': {
      if (!spec?.template) return causes.required('spec.template');
      checkLabels(causes, 'spec.template.metadata.labels', spec.template.metadata?.labels);
      const restart = spec.template.spec?.restartPolicy;
      if (spec.template.spec && restart === undefined) causes.required('spec.template.spec.restartPolicy');
      checkPodSpec(causes, 'spec.template.spec', spec.template.spec, ['OnFailure', 'Never']);
      for (const f of ['completions', 'parallelism', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
        if (spec[f] !== undefined && spec[f] !== null && !(Number.isInteger(spec[f]) && spec[f] >= 0)) causes.invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0');
      }
      return;
    }
    case 'leases':
      return checkLeaseSpec(causes, spec);
    case 'roles':
    case 'rolebindings':
    case 'clusterroles':
    case 'clusterrolebindings':
      return checkRbacObject(info.plural, object, causes);
    case 'deployments': {
      if (!spec?.template) return causes.required('spec.template');
      // apps/validation ValidateDeploymentSpec: a non-empty selector (matchLabels and/or
      // matchExpressions) that matches the template's labels (ValidatePodTemplateSpecForReplicaSet).
      const labels = spec.template.metadata?.labels ?? {};
      const selector = spec.selector as LabelSelectorObject | undefined;
      if (!selector) causes.required('spec.selector');
      else if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions?.length ?? 0) === 0) {
        causes.invalid('spec.selector', selector, 'empty selector is invalid for deployment');
      } else if (!labelSelectorMatcher(selector)(labels)) {
        causes.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
      }
      checkPodSpec(causes, 'spec.template.spec', spec.template.spec, ['Always']);
      if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && spec.replicas >= 0)) causes.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0');
      return;
    }
  }
}

/** Validates an object for create (after defaults). Throws 422 with every cause found. */
export function validateObject(info: ResourceInfo, object: KObject): void {
  const causes = new Causes();
  const meta = object.metadata ?? ({} as KObject['metadata']);
  const labelName = info.plural === 'namespaces' || info.plural === 'jobs' || info.plural === 'deployments';
  const pathSegmentProblems = typeof meta.name === 'string' && meta.name !== '' ? rbacNameProblems(info.plural, meta.name) : undefined;
  if (pathSegmentProblems) for (const problem of pathSegmentProblems) causes.invalid('metadata.name', meta.name, problem);
  else if (meta.name || !meta.generateName) checkName(causes, 'metadata.name', meta.name, labelName);
  checkLabels(causes, 'metadata.labels', meta.labels);
  if (meta.annotations !== undefined && (typeof meta.annotations !== 'object' || Object.values(meta.annotations).some((v) => typeof v !== 'string'))) {
    causes.invalid('metadata.annotations', meta.annotations, 'values must be strings');
  }
  checkSpec(info, object, causes);
  causes.throwIfAny(info.kind, meta.name || meta.generateName || '', info.group || undefined);
}

function withoutImages(spec: any): string {
  const copy = structuredClone(spec ?? {});
  for (const kind of ['containers', 'initContainers']) for (const c of copy[kind] ?? []) delete c.image;
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  return canonical(copy);
}

/** Rules for PUT/PATCH of the main resource: immutable fields → 422 Forbidden. */
export function validateUpdate(info: ResourceInfo, previous: KObject, next: KObject): void {
  validateObject(info, next);
  const causes = new Causes();
  const before = previous.spec;
  const after = next.spec;
  if (info.plural === 'pods' && withoutImages(before) !== withoutImages(after)) {
    causes.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)');
  }
  if (info.plural === 'persistentvolumeclaims') {
    const strip = (s: any) => canonical({ ...s, resources: { ...s?.resources, requests: { ...s?.resources?.requests, storage: undefined } }, volumeName: undefined });
    if (strip(before) !== strip(after)) causes.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
  }
  if (info.plural === 'jobs') {
    if (canonical(before?.selector) !== canonical(after?.selector)) causes.invalid('spec.selector', after?.selector, 'field is immutable');
    if (canonical(before?.template) !== canonical(after?.template)) causes.invalid('spec.template', after?.template, 'field is immutable');
    if (before?.completions !== after?.completions) causes.invalid('spec.completions', after?.completions, 'field is immutable');
  }
  checkRbacUpdate(info.plural, previous, next, causes);
  if (info.plural === 'deployments' && canonical(before?.selector) !== canonical(after?.selector)) {
    causes.invalid('spec.selector', after?.selector, 'field is immutable');
  }
  causes.throwIfAny(info.kind, next.metadata.name, info.group || undefined);
}
