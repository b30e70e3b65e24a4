import type { KObject } from './api.js';
import { defaultRbacObject } from './auth/validation.js';

/**
 * Defaulting on create, as the real admission chain and defaulters do. `before`
 * runs before validation; `afterUid` runs once the store assigned the uid.
 */

/** The default StorageClass reported to clients and filled into PVCs. */
export const DEFAULT_STORAGE_CLASS = 'standard';

/** The second StorageClass: volumeBindingMode WaitForFirstConsumer (claims bind once a pod using them is scheduled). */
export const WAIT_STORAGE_CLASS = 'wait-for-first-consumer';

function defaultPullPolicy(image: string): string {
  const last = image.split('/').pop() ?? image;
  const tagged = last.includes(':') && !last.endsWith(':latest');
  return image.includes('@') || tagged ? 'IfNotPresent' : 'Always';
}

/** Defaults of a pod spec (pods and templates). */
export function defaultPodSpec(spec: any, restartPolicy = 'Always'): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= restartPolicy;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const kind of ['containers', 'initContainers']) {
    if (!Array.isArray(spec[kind])) continue;
    for (const c of spec[kind]) {
      if (!c || typeof c !== 'object') continue;
      if (typeof c.image === 'string') c.imagePullPolicy ??= defaultPullPolicy(c.image);
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
    }
  }
}

function qosClass(spec: any): string {
  const containers: any[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  const any = containers.some((c) => Object.keys(c?.resources?.requests ?? {}).length || Object.keys(c?.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const limits = c?.resources?.limits ?? {};
    const requests = c?.resources?.requests ?? {};
    return limits.cpu && limits.memory && (requests.cpu ?? limits.cpu) === limits.cpu && (requests.memory ?? limits.memory) === limits.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Spec defaults only (also applied to updates, so a client that echoes an object
 * without some defaulted field does not look like it changed an immutable spec).
 */
export function defaultSpec(resource: string, object: KObject): void {
  if (resource === 'pods' && object.spec) {
    defaultPodSpec(object.spec);
    if (object.spec.serviceAccountName === undefined) object.spec.serviceAccountName = object.spec.serviceAccount ?? 'default';
    object.spec.serviceAccount ??= object.spec.serviceAccountName;
    object.spec.enableServiceLinks ??= true;
    object.spec.priority ??= 0;
    object.spec.preemptionPolicy ??= 'PreemptLowerPriority';
    // core/v1 SetDefaults_Pod (pods only, not templates): a limit without a request requests the limit.
    for (const c of [...(object.spec.containers ?? []), ...(object.spec.initContainers ?? [])]) {
      if (c?.resources?.limits && typeof c.resources.limits === 'object') c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
    }
  }
  if (resource === 'secrets') mergeStringData(object);
  if (resource === 'jobs' && object.spec?.template) defaultPodSpec(object.spec.template.spec, 'Never');
  if (resource === 'deployments' && object.spec?.template) defaultPodSpec(object.spec.template.spec, 'Always');
}

/**
 * A Secret's `stringData` is write-only: each key is written into `data` (over a key of
 * the same name there) and `stringData` is never stored nor returned — on create, update
 * and patch alike (pkg/apis/core/v1/conversion.go `Convert_v1_Secret_To_core_Secret`).
 */
function mergeStringData(object: any): void {
  const given = object.stringData;
  delete object.stringData;
  if (typeof given !== 'object' || given === null || Object.keys(given).length === 0) return;
  object.data = { ...(object.data ?? {}) };
  for (const [key, value] of Object.entries(given)) object.data[key] = Buffer.from(String(value)).toString('base64');
}

/** Defaults applied before validation. */
export function defaultObject(resource: string, object: KObject): void {
  object.metadata ??= {} as KObject['metadata'];
  defaultRbacObject(resource, object);
  switch (resource) {
    case 'namespaces':
      object.spec = { finalizers: ['kubernetes'], ...(object.spec ?? {}) };
      object.status = { phase: 'Active' };
      return;
    case 'pods':
      object.spec ??= {};
      defaultSpec(resource, object);
      object.status = { phase: 'Pending', qosClass: qosClass(object.spec) };
      return;
    case 'persistentvolumeclaims':
      object.spec ??= {};
      if (object.spec.storageClassName === undefined) object.spec.storageClassName = DEFAULT_STORAGE_CLASS;
      object.spec.volumeMode ??= 'Filesystem';
      object.metadata.finalizers = [...new Set([...(object.metadata.finalizers ?? []), 'kubernetes.io/pvc-protection'])];
      object.status = { phase: 'Pending' };
      return;
    case 'jobs': {
      const spec = (object.spec ??= {});
      spec.completions ??= 1;
      spec.parallelism ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      if (spec.template) defaultPodSpec(spec.template.spec, 'Never');
      object.status = {};
      return;
    }
    case 'deployments': {
      const spec = (object.spec ??= {});
      spec.replicas ??= 1;
      if (!spec.strategy?.type) spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' }, ...(spec.strategy ?? {}) };
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      if (spec.template) defaultPodSpec(spec.template.spec, 'Always');
      object.status = {};
      return;
    }
    case 'secrets':
      object.type ??= 'Opaque';
      defaultSpec(resource, object);
      return;
    case 'events':
      object.count ??= 1;
      return;
  }
}

/** Defaults that need the assigned uid/name. */
export function admitWithIdentity(resource: string, object: KObject): void {
  const { uid, name } = object.metadata;
  if (resource === 'namespaces') {
    object.metadata.labels = { ...(object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  }
  if (resource === 'jobs' && object.spec?.template && !object.spec.manualSelector) {
    const identity = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    object.spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    object.spec.template.metadata = { ...(object.spec.template.metadata ?? {}), labels: { ...(object.spec.template.metadata?.labels ?? {}), ...identity } };
    delete object.spec.manualSelector;
  }
}
