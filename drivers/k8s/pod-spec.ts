import type { V1Container, V1EnvVar, V1Job, V1Pod, V1PodSpec, V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ResolvedTask } from '../../src/validate.js';
import type { ResourceRole } from '../../src/labels.js';
import { claimName, objectLabels, TASK_CONTAINER, taskAnnotations, taskObjectName } from './naming.js';
import type { ResolvedK8sOptions } from './options.js';
import { applyPodTemplate, optional, securityContextsFor, sharedPodSpec } from './pod-shell.js';
import { resourcesFor } from './quantity.js';
import { serviceContainers } from './services.js';

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
  /**
   * The task runs on a terminal: the container gets `tty`, `stdin` and `stdinOnce`, as
   * `kubectl run -it` makes it (kubectl pkg/cmd/run/run.go), and the driver attaches for the
   * terminal's size and input. @default false
   */
  tty?: boolean;
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
  const limits = resourcesFor(task.limits);
  const resources = Object.keys(limits).length > 0 ? limits : options.defaultResources;
  const security = securityContextsFor(task.user, task.privileged ?? false, options);
  const container: V1Container = {
    name: TASK_CONTAINER,
    image: task.image,
    imagePullPolicy: options.imagePullPolicy,
    command: purpose.command.map(escapeExpansion),
    env: envFor(task.env, options),
    workingDir: task.workDir,
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...optional('resources', resources),
    ...optional('securityContext', security.container),
    // Only a task with stdin gets one: a process reading an attached-but-idle stdin would block forever.
    // A terminal always has an input side, as on `kubectl run -it`.
    ...(purpose.tty === true ? { tty: true, stdin: true, stdinOnce: true } : purpose.stdin ? { stdin: true, stdinOnce: true } : {}),
  };
  // Services run as sidecars with the same pull policy, resources and security profile (not the task's user: their images have their own).
  const serviceBase = { imagePullPolicy: options.imagePullPolicy, securityContext: securityContextsFor(undefined, false, options).container, resources: options.defaultResources };
  const spec: V1PodSpec = {
    restartPolicy: 'Never',
    ...(task.services.length > 0 ? { initContainers: serviceContainers(task.services, serviceBase, escapeExpansion) } : {}),
    containers: [container],
    ...(volumes.length > 0 ? { volumes } : {}),
    ...sharedPodSpec(options),
    ...optional('securityContext', security.pod),
    ...optional('activeDeadlineSeconds', purpose.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(purpose.timeoutMs / 1000))),
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
  return applyPodTemplate(pod, options.podTemplate, TASK_CONTAINER);
}

/** The user of volume helpers under `securityProfile: 'restricted'` (nobody), and the group their volumes are handed to. */
export const RESTRICTED_HELPER_USER = '65534:65534';

/**
 * Requests and limits of a helper's container when `defaultResources` is not set: small,
 * and present, so namespaces with a cpu/memory ResourceQuota admit it.
 */
export const HELPER_RESOURCES: V1ResourceRequirements = { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } };

/**
 * The pod of a volume helper: the idle loop with the claim at `mountPath`, the same
 * scheduling, identity, security profile and `podTemplate` as tasks (it must land and be
 * admitted where they do).
 */
export function buildHelperPod(name: string, volume: string, mount: { path: string; readOnly: boolean }, options: ResolvedK8sOptions): V1Pod {
  const security = securityContextsFor(options.securityProfile === 'restricted' ? RESTRICTED_HELPER_USER : undefined, false, options);
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: options.kubernetesNamespace,
      labels: { ...options.labels, ...objectLabels(options.namespace, 'helper', { volume }) },
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: HELPER_CONTAINER,
          image: options.helperImage,
          imagePullPolicy: options.imagePullPolicy,
          command: IDLE_COMMAND.map(escapeExpansion),
          volumeMounts: [{ name: 'data', mountPath: mount.path, readOnly: mount.readOnly }],
          resources: options.defaultResources ?? HELPER_RESOURCES,
          ...optional('securityContext', security.container),
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claimName(options.namespace, volume), readOnly: mount.readOnly } }],
      ...sharedPodSpec(options),
      ...optional('securityContext', security.pod),
    },
  };
  return applyPodTemplate(pod, options.podTemplate, HELPER_CONTAINER);
}

/** The name of a volume helper's container. */
export const HELPER_CONTAINER = 'helper';

/** A Pod as the driver creates it: `kind` tells it from a {@link K8sJobObject}. */
export type K8sPodObject = V1Pod & { kind: 'Pod' };
/** A batch/v1 Job as the driver creates it (job mode). */
export type K8sJobObject = V1Job & { kind: 'Job' };
/** The object a start creates for a task or sandbox: its Pod, or in job mode a task's Job. */
export type K8sTaskObject = K8sPodObject | K8sJobObject;

/**
 * What a start creates around the pod of a task or sandbox: in job mode a task's Job (a
 * sandbox stays a bare pod: it never completes), else the pod itself.
 */
export function taskObject(pod: V1Pod, role: PodPurpose['role'], options: Pick<ResolvedK8sOptions, 'mode' | 'ttlSecondsAfterFinished'>): K8sTaskObject {
  return role === 'task' && options.mode === 'job' ? buildJob(pod, options) : { ...pod, kind: 'Pod' };
}

/** The batch/v1 Job around a task pod: no retries, optional TTL. */
export function buildJob(pod: V1Pod, options: Pick<ResolvedK8sOptions, 'ttlSecondsAfterFinished'>): K8sJobObject {
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
