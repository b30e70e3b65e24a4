import type { V1Container, V1Pod, V1PodSecurityContext, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import { InvalidInputError } from '../../src/errors.js';
import { TASK_CONTAINER } from './naming.js';
import { pullSecretRefs, type ResolvedK8sOptions } from './options.js';

/**
 * What every pod the driver makes shares — tasks, sandboxes and volume helpers alike:
 * scheduling, identity, pull secrets, the security profile, the grace period and the
 * `podTemplate`. Pure: no client, no I/O.
 */

/**
 * The grace period of the driver's pods, in seconds. Deletions use the pod's own grace, so
 * it is never 0: a delete with grace 0 is a force delete (the API object goes at once, the
 * process may run on), see `pods.ts` `deletePod`. Sandboxes and helpers trap TERM and exit at
 * once; a task's process gets this long after SIGTERM, as `docker stop -t 1`.
 */
export const DEFAULT_GRACE_SECONDS = 1;

/** The pod-level settings of every pod: where it may run, as whom it pulls and calls the API. */
export function sharedPodSpec(options: ResolvedK8sOptions): Partial<V1PodSpec> {
  return {
    terminationGracePeriodSeconds: DEFAULT_GRACE_SECONDS,
    automountServiceAccountToken: options.serviceAccountName !== undefined,
    ...optional('imagePullSecrets', pullSecretRefs(options.imagePullSecrets)),
    ...optional('serviceAccountName', options.serviceAccountName),
    ...optional('nodeSelector', options.nodeSelector === undefined ? undefined : { ...options.nodeSelector }),
    ...optional('tolerations', options.tolerations === undefined ? undefined : [...options.tolerations]),
    ...optional('affinity', options.affinity),
    ...optional('priorityClassName', options.priorityClassName),
    ...optional('runtimeClassName', options.runtimeClassName),
  };
}

/** `uid[:gid]`, parsed; a user name is refused: Kubernetes runs containers by numeric IDs only. */
export function parseUser(user: string | undefined): { uid: number; gid?: number } | undefined {
  if (user === undefined) return undefined;
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) {
    throw new InvalidInputError('task.user', 'a numeric "uid" or "uid:gid" (Kubernetes runs containers by numeric IDs only; look the name up in the image\'s /etc/passwd)', user);
  }
  return { uid: Number(match[1]), ...(match[2] === undefined ? {} : { gid: Number(match[2]) }) };
}

/** The security contexts of a pod and its main container. */
export interface SecurityContexts {
  pod?: V1PodSecurityContext;
  container?: V1SecurityContext;
}

/**
 * The pod's and main container's security contexts. `user` → `runAsUser`/`runAsGroup`, and the
 * pod's `fsGroup` (the gid, else the uid), so a non-root process can write its volumes (the
 * kubelet hands each writable volume to that group). `securityProfile: 'restricted'` adds what
 * Pod Security "restricted" requires (pod-security-admission policy/check_*.go): `runAsNonRoot`,
 * seccomp `RuntimeDefault`, `allowPrivilegeEscalation: false`, capabilities `drop: [ALL]`;
 * a privileged task cannot run under it.
 */
export function securityContextsFor(user: string | undefined, privileged: boolean, options: Pick<ResolvedK8sOptions, 'securityProfile'>): SecurityContexts {
  const ids = parseUser(user);
  const restricted = options.securityProfile === 'restricted';
  if (privileged && restricted) {
    throw new InvalidInputError('task.privileged', 'false: the driver\'s securityProfile is "restricted" (Pod Security forbids privileged containers)', true);
  }
  const container: V1SecurityContext = {
    ...(ids === undefined ? {} : { runAsUser: ids.uid, ...(ids.gid === undefined ? {} : { runAsGroup: ids.gid }) }),
    ...(privileged ? { privileged: true } : {}),
    ...(restricted ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true } : {}),
  };
  const pod: V1PodSecurityContext = {
    ...(ids === undefined ? {} : { fsGroup: ids.gid ?? ids.uid }),
    ...(restricted ? { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } : {}),
  };
  return { ...(Object.keys(pod).length > 0 ? { pod } : {}), ...(Object.keys(container).length > 0 ? { container } : {}) };
}

/** Fields of the template's `task` container that never apply to a helper's main container: what it runs is the driver's. */
const HELPER_OWN_FIELDS = ['image', 'command', 'args', 'workingDir', 'stdin', 'stdinOnce', 'tty', 'volumeMounts'] as const;

/**
 * `template` merged over `pod`, last: objects merged key by key, `spec.containers` and
 * `spec.initContainers` merged by name (the template's `task` container is the pod's main
 * container — the task's, the sandbox's, or a volume helper's, where what it runs stays the
 * driver's — other names merge into the container of that name or are added), every other
 * array and scalar replaced. The grace period is never made 0 (see {@link DEFAULT_GRACE_SECONDS}).
 */
export function applyPodTemplate(pod: V1Pod, template: Partial<V1Pod> | undefined, main: string): V1Pod {
  if (template === undefined) return pod;
  const { spec: templateSpec, ...rest } = template;
  const merged = deepMerge(pod, rest) as V1Pod;
  if (templateSpec !== undefined && merged.spec !== undefined) {
    const { containers, initContainers, ...specRest } = templateSpec;
    const spec = deepMerge(merged.spec, specRest) as V1PodSpec;
    if (containers !== undefined) spec.containers = mergeContainers(spec.containers, containers, main);
    if (initContainers !== undefined) spec.initContainers = mergeContainers(spec.initContainers ?? [], initContainers, undefined);
    merged.spec = spec;
  }
  if (merged.spec?.terminationGracePeriodSeconds === 0) merged.spec.terminationGracePeriodSeconds = DEFAULT_GRACE_SECONDS;
  return merged;
}

function mergeContainers(base: V1Container[], overrides: readonly V1Container[], main: string | undefined): V1Container[] {
  const result = [...base];
  for (const override of overrides) {
    const intoMain = override.name === TASK_CONTAINER && main !== undefined;
    const name = intoMain ? main : override.name;
    const index = result.findIndex((container) => container.name === name);
    if (index < 0) {
      result.push(override);
      continue;
    }
    const patch: Record<string, unknown> = { ...override, name };
    if (intoMain && main !== TASK_CONTAINER) for (const field of HELPER_OWN_FIELDS) delete patch[field];
    result[index] = deepMerge(result[index], patch) as V1Container;
  }
  return result;
}

/** `override` merged into `base`: plain objects recursively, everything else (arrays included) replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ [key]: value }`, or nothing when the value is undefined. */
export function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
