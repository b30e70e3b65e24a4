import type { KObject } from '../api.js';
import { errors, type StatusCause } from '../status.js';
import type { ComponentProfile } from './profile.js';

/** The pod specs an object carries, with their field paths (pods; job and deployment templates). */
function podSpecs(resource: string, object: KObject): Array<[spec: any, path: string]> {
  if (resource === 'pods' && object.spec) return [[object.spec, 'spec']];
  if ((resource === 'jobs' || resource === 'deployments') && object.spec?.template?.spec) return [[object.spec.template.spec, 'spec.template.spec']];
  return [];
}

/**
 * What the reproduced version's API server does to a created object besides the defaults of
 * every version (admission.ts): fields of disabled gates dropped, version defaults, and the
 * validation of those fields. Throws a 422 as validation does.
 */
export function applyProfileFields(resource: string, object: KObject, server: ComponentProfile, kind: string, group?: string): void {
  const causes: StatusCause[] = [];
  for (const [spec, path] of podSpecs(resource, object)) {
    const sidecars = server.enabled('SidecarContainers');
    (spec.initContainers ?? []).forEach((c: any, i: number) => {
      if (!c || typeof c !== 'object') return;
      // Dropped where the gate is off (pkg/api/pod/util.go dropDisabledPodFields).
      if (c.restartPolicy !== undefined && !sidecars) delete c.restartPolicy;
      // Only Always (pkg/apis/core/validation validateInitContainers).
      if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') causes.push({ reason: 'FieldValueNotSupported', field: `${path}.initContainers[${i}].restartPolicy`, message: `Unsupported value: ${JSON.stringify(c.restartPolicy)}: supported values: "Always"` });
      // Lifecycle hooks and probes only on a sidecar (validateInitContainers, its default case), checked
      // after the drop: where the gate is off, a sidecar's probes make the whole pod invalid.
      if (c.restartPolicy === 'Always') return;
      for (const key of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[key] !== undefined && c[key] !== null) causes.push({ reason: 'FieldValueForbidden', field: `${path}.initContainers[${i}].${key}`, message: 'Forbidden: may not be set for init containers without restartPolicy=Always' });
      }
    });
    (spec.containers ?? []).forEach((c: any, i: number) => {
      // pkg/apis/core/validation validateContainers.
      if (c && typeof c === 'object' && c.restartPolicy !== undefined) causes.push({ reason: 'FieldValueForbidden', field: `${path}.containers[${i}].restartPolicy`, message: 'Forbidden: may not be set for non-init containers' });
    });
  }
  if (resource === 'jobs' && object.spec && typeof object.spec === 'object') {
    const spec = object.spec;
    // pkg/apis/batch/v1/defaults.go SetDefaults_Job; pkg/registry/batch/job/strategy.go dropDisabledFields.
    if (server.enabled('JobPodReplacementPolicy')) spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
    else delete spec.podReplacementPolicy;
    if (!server.enabled('JobManagedBy')) delete spec.managedBy;
  }
  if (causes.length > 0) throw errors.invalid(kind, object.metadata?.name ?? '', causes, group);
}
