import type { V1Container, V1EnvVar, V1Job, V1Pod, V1PodSpec, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { InvalidInputError } from '../../src/errors.js';
import type { ResolvedTask } from '../../src/validate.js';
import type { ResourceRole } from '../../src/labels.js';
import { claimName, objectLabels, TASK_CONTAINER, taskAnnotations, taskObjectName } from './naming.js';
import { pullSecretRefs, type ResolvedK8sOptions } from './options.js';
import { resourcesFor } from './quantity.js';

/**
 * Pure builders of the pods and Jobs the driver creates. No client, no I/O: the
 * same task and options always give the same object.
 */

/** What a pod is built for: a task (its command runs once), or a sandbox (idles until deleted). */
export interface PodPurpose {
  role: Extract<ResourceRole, 'task' | 'sandbox'>;
  /** The process to run; for a sandbox the idle loop. */
  command: readonly string[];
  /** The task has stdin: the container gets `stdin`+`stdinOnce` and the driver attaches. */
  stdin: boolean;
  timeoutMs?: number;
}

/**
 * A shell loop that idles until the pod is deleted and exits at once on SIGTERM
 * (PID 1 gets no default signal handling, hence the explicit trap).
 */
export const IDLE_COMMAND: readonly string[] = ['sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

/**
 * `value` protected from Kubernetes' `$(VAR)` expansion of command, args and env values:
 * every `$` is doubled (`$$` is the escape for a literal `$`), so the process gets it verbatim.
 */
export function escapeExpansion(value: string): string {
  return value.replaceAll('$', '$$$$');
}

/** `uid[:gid]` as a pod security context; a user name is rejected: Kubernetes needs numeric IDs. */
export function securityContextFor(user: string | undefined, privileged: boolean): V1SecurityContext | undefined {
  const context: V1SecurityContext = {};
  if (user !== undefined) {
    const match = /^(\d+)(?::(\d+))?$/.exec(user);
    if (match === null) {
      throw new InvalidInputError('task.user', 'a numeric "uid" or "uid:gid" (Kubernetes runs containers by numeric IDs only; look the name up in the image\'s /etc/passwd)', user);
    }
    context.runAsUser = Number(match[1]);
    if (match[2] !== undefined) context.runAsGroup = Number(match[2]);
  }
  if (privileged) context.privileged = true;
  return Object.keys(context).length === 0 ? undefined : context;
}

/** The task's environment, then the Secret-backed variables (which win on a name clash). */
export function envFor(env: Readonly<Record<string, string>>, options: Pick<ResolvedK8sOptions, 'secretEnv'>): V1EnvVar[] {
  const secretEnv = options.secretEnv ?? {};
  const plain = Object.entries(env).filter(([name]) => !(name in secretEnv)).map(([name, value]) => ({ name, value: escapeExpansion(value) }));
  const fromSecrets = Object.entries(secretEnv).map(([name, source]) => ({
    name,
    valueFrom: { secretKeyRef: { name: source.secret, key: source.key, ...(source.optional === undefined ? {} : { optional: source.optional }) } },
  }));
  return [...plain, ...fromSecrets];
}

/** Volumes and mounts: one PVC per drivetrain volume, plus an emptyDir at the default scratch directory. */
export function volumesFor(task: Pick<ResolvedTask, 'mounts' | 'workDir' | 'defaultWorkDir'>, namespace: string): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (task.defaultWorkDir) {
    // An emptyDir is world-writable, so the scratch directory works for any user.
    volumes.push({ name: 'scratch', emptyDir: {} });
    mounts.push({ name: 'scratch', mountPath: task.workDir });
  }
  const claimVolume = new Map<string, string>();
  task.mounts.forEach((mount) => {
    let volumeName = claimVolume.get(mount.volume);
    if (volumeName === undefined) {
      volumeName = `vol-${claimVolume.size}`;
      claimVolume.set(mount.volume, volumeName);
      volumes.push({ name: volumeName, persistentVolumeClaim: { claimName: claimName(namespace, mount.volume) } });
    }
    mounts.push({ name: volumeName, mountPath: mount.path, ...(mount.readOnly ? { readOnly: true } : {}) });
  });
  return { volumes, mounts };
}

/** The Pod of a task or sandbox. */
export function buildPod(task: Omit<ResolvedTask, 'command'>, purpose: PodPurpose, options: ResolvedK8sOptions): V1Pod {
  const { volumes, mounts } = volumesFor(task, options.namespace);
  const resources = resourcesFor(task.limits);
  const container: V1Container = {
    name: TASK_CONTAINER,
    image: task.image,
    imagePullPolicy: options.imagePullPolicy,
    command: purpose.command.map(escapeExpansion),
    env: envFor(task.env, options),
    workingDir: task.workDir,
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...optional('securityContext', securityContextFor(task.user, task.privileged ?? false)),
    // Only a task with stdin gets one: a process reading an attached-but-idle stdin would block forever.
    ...(purpose.stdin ? { stdin: true, stdinOnce: true } : {}),
  };
  const spec: V1PodSpec = {
    restartPolicy: 'Never',
    containers: [container],
    ...(volumes.length > 0 ? { volumes } : {}),
    terminationGracePeriodSeconds: DEFAULT_GRACE_SECONDS,
    automountServiceAccountToken: options.serviceAccountName !== undefined,
    ...optional('activeDeadlineSeconds', purpose.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(purpose.timeoutMs / 1000))),
    ...optional('imagePullSecrets', pullSecretRefs(options.imagePullSecrets)),
    ...optional('serviceAccountName', options.serviceAccountName),
    ...optional('nodeSelector', options.nodeSelector === undefined ? undefined : { ...options.nodeSelector }),
    ...optional('tolerations', options.tolerations === undefined ? undefined : [...options.tolerations]),
    ...optional('affinity', options.affinity),
    ...optional('priorityClassName', options.priorityClassName),
    ...optional('runtimeClassName', options.runtimeClassName),
  };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: taskObjectName(options.namespace, task.id),
      namespace: options.kubernetesNamespace,
      labels: { ...options.labels, ...task.labels, ...objectLabels(options.namespace, purpose.role, { taskId: task.id }) },
      annotations: { ...options.annotations, ...taskAnnotations(task.id) },
    },
    spec,
  };
  return options.podTemplate === undefined ? pod : withGraceFloor(deepMerge(pod, options.podTemplate) as V1Pod);
}

/**
 * The grace period of the driver's pods, in seconds. Deletions use the pod's own grace, so
 * it is never 0: a delete with grace 0 is a force delete (the API object goes at once, the
 * process may run on), see `pods.ts` `deletePod`. Sandboxes and helpers trap TERM and exit at
 * once; a task's process gets this long after SIGTERM, as `docker stop -t 1`.
 */
export const DEFAULT_GRACE_SECONDS = 1;

/** A `podTemplate` may lengthen the grace period, not make deletions forced (a negative one is the API server's to refuse). */
function withGraceFloor(pod: V1Pod): V1Pod {
  if (pod.spec === undefined || pod.spec.terminationGracePeriodSeconds !== 0) return pod;
  return { ...pod, spec: { ...pod.spec, terminationGracePeriodSeconds: DEFAULT_GRACE_SECONDS } };
}

/** The batch/v1 Job around a task pod: no retries, optional TTL. */
export function buildJob(pod: V1Pod, options: Pick<ResolvedK8sOptions, 'ttlSecondsAfterFinished'>): V1Job {
  const metadata = pod.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels, annotations: metadata.annotations },
    spec: {
      backoffLimit: 0,
      ...optional('ttlSecondsAfterFinished', options.ttlSecondsAfterFinished),
      // The pod carries the deadline: its reason (DeadlineExceeded) is what status reports.
      template: { metadata: { labels: metadata.labels, annotations: metadata.annotations }, spec: pod.spec },
    },
  };
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

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
