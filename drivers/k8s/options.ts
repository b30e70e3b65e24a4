import { resolveOwnerOptions, type OwnerOptions } from '../../src/kit/owner.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { V1Affinity, V1LocalObjectReference, V1Pod, V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import { InvalidInputError } from '../../src/errors.js';
import { oneOf as oneOfAllowed, positiveInteger } from '../../src/kit/options.js';
import type { BaseDriverOptions, Logger } from '../../src/types.js';
import type { RetryPolicy } from '../../src/retry.js';

/** Where a secret-backed environment variable comes from. */
export interface SecretEnvSource {
  /** Name of the Secret in the Kubernetes namespace. */
  secret: string;
  /** Key inside the Secret. */
  key: string;
  /** Start the pod even when the Secret or key is missing. @default false */
  optional?: boolean;
}

/** Options of the Kubernetes driver. */
export interface K8sDriverOptions extends BaseDriverOptions, OwnerOptions {
  /** Path of a kubeconfig file. @default `KUBECONFIG` (several paths allowed), else `~/.kube/config`, else the in-cluster service account */
  kubeconfig?: string;
  /** A ready KubeConfig; wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** The kubeconfig context to use. @default the current context */
  context?: string;
  /**
   * The Kubernetes namespace objects are made in (separate from the drivetrain `namespace`).
   * @default env `DRIVETRAIN_K8S_NAMESPACE`, else the context's namespace, else `default`
   */
  kubernetesNamespace?: string;
  /** Run tasks as bare Pods or as batch/v1 Jobs (backoffLimit 0). @default 'pod' */
  mode?: 'pod' | 'job';
  /** Job mode: seconds after which Kubernetes deletes a finished Job. @default unset (kept until cleanup) */
  ttlSecondsAfterFinished?: number;
  /** @default 'IfNotPresent' */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Names of Secrets used to pull images. @default none */
  imagePullSecrets?: readonly string[];
  /** @default the namespace's default service account */
  serviceAccountName?: string;
  nodeSelector?: Readonly<Record<string, string>>;
  tolerations?: readonly V1Toleration[];
  affinity?: V1Affinity;
  priorityClassName?: string;
  runtimeClassName?: string;
  /** Extra labels on every object the driver makes (keys `drivetrain.*` are reserved). */
  labels?: Readonly<Record<string, string>>;
  /** Extra annotations on every object the driver makes. */
  annotations?: Readonly<Record<string, string>>;
  /** Environment variables read from Secrets: variable name → Secret key. */
  secretEnv?: Readonly<Record<string, SecretEnvSource>>;
  /** A partial Pod deep-merged over the generated pod last (objects merged, arrays and scalars replaced). */
  podTemplate?: Partial<V1Pod>;
  /** StorageClass of volume claims. @default the cluster's default class */
  storageClassName?: string;
  /** @default 'ReadWriteOnce' */
  accessMode?: 'ReadWriteOnce' | 'ReadWriteMany';
  /** Size of a volume created without `sizeBytes`, in bytes. @default 1073741824 (1 GiB) */
  defaultVolumeSizeBytes?: number;
  /**
   * Image of the short-lived pods that copy data in and out of volumes: needs `sh`, `tar`, and
   * (for copies into volumes on servers without the v5 exec protocol) `dd` with
   * `iflag=fullblock`. Air-gapped clusters point it at their mirror's copy.
   * @default env `DRIVETRAIN_K8S_HELPER_IMAGE`, else {@link DEFAULT_HELPER_IMAGE} (busybox 1.37.0, by digest)
   */
  helperImage?: string;
  /**
   * Pod Security the driver's pods are made to pass. `'restricted'`: every pod (tasks,
   * sandboxes, helpers) runs with `runAsNonRoot`, seccomp `RuntimeDefault`,
   * `allowPrivilegeEscalation: false` and every capability dropped, so namespaces labelled
   * `pod-security.kubernetes.io/enforce: restricted` admit them; tasks need an image whose
   * user is non-root or a numeric `user`, helpers run as 65534:65534; `privileged` is refused.
   * @default 'none' (the pods ask for nothing; fine up to Pod Security "baseline")
   */
  securityProfile?: 'none' | 'restricted';
  /**
   * Requests and limits of containers whose task sets no `limits`, and of volume helpers:
   * namespaces with a ResourceQuota on cpu or memory refuse containers without them.
   * @default none for tasks and sandboxes; helpers `{ requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } }`
   */
  defaultResources?: V1ResourceRequirements;
  /** Longest wait, in ms, for a pod to be scheduled, pulled and started. @default 300000 (5 min) */
  startTimeoutMs?: number;
  /** Longest time, in ms, a pod may stay in ErrImagePull/ImagePullBackOff before the run fails. @default 120000 (2 min) */
  pullTimeoutMs?: number;
  /**
   * Read stdout and stderr apart with the pods/log `stream` parameter where the server serves
   * it (`'auto'`: probed once, Kubernetes 1.32+ with the `PodLogsQuerySplitStreams` gate), else
   * the combined log goes to stdout. `'never'`: always the combined log — for clusters whose
   * API server has the gate and whose kubelets do not (version skew), where every stream
   * would give the combined log. @default 'auto'
   */
  splitLogStreams?: 'auto' | 'never';
  /** Retry policy of transient API errors (429, 5xx, connection errors). */
  retry?: RetryPolicy;
  /**
   * Liveness of the connection to the API server, in ms: the pod watch is taken for dead
   * (a half-open connection that delivers nothing) after this long without an event or a
   * bookmark, then dropped and the pods re-listed; `wait()` and the start wait also re-read
   * their pod with a GET at this interval. Real API servers send a watch bookmark about
   * every minute. @default 90000
   */
  livenessIntervalMs?: number;
  /**
   * How long a pod may stay terminating past its deletion deadline (its `deletionTimestamp`)
   * before it is given up as lost with its node (a kubelet that no longer answers): `wait()`
   * and `status()` then report `{ done: true, exitCode: null, reason: 'NodeLost' }`, and
   * `cleanup`/`close` force-delete it, as `kubectl delete --force` would. In ms. @default 60000
   */
  nodeLostTimeoutMs?: number;
  /**
   * Upper bound of {@link Driver.close}, in milliseconds: past it, `close` rejects with
   * `CloseTimeoutError` and a later `close` removes what is left (pods may take their grace
   * period to go).
   * @default 60000
   */
  closeTimeoutMs?: number;
}

/** Options after validation, defaults applied. */
export interface ResolvedK8sOptions extends Omit<K8sDriverOptions, 'kubeconfig' | 'kubeConfig' | 'context'> {
  namespace: string;
  logger: Logger | undefined;
  kubernetesNamespace: string;
  mode: 'pod' | 'job';
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  accessMode: 'ReadWriteOnce' | 'ReadWriteMany';
  defaultVolumeSizeBytes: number;
  helperImage: string;
  startTimeoutMs: number;
  pullTimeoutMs: number;
  securityProfile: 'none' | 'restricted';
  livenessIntervalMs: number;
  nodeLostTimeoutMs: number;
  splitLogStreams: 'auto' | 'never';
  closeTimeoutMs: number;
  ownerRecord: boolean;
  reapOrphans: boolean;
  ownerLeaseSeconds: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The Kubernetes namespace: option > `DRIVETRAIN_K8S_NAMESPACE` > the context's namespace > `default`. */
export function resolveKubernetesNamespace(option: string | undefined, kc: KubeConfig, env: NodeJS.ProcessEnv = process.env): string {
  const context = kc.getContextObject(kc.getCurrentContext());
  const chosen = option ?? (env.DRIVETRAIN_K8S_NAMESPACE || undefined) ?? context?.namespace ?? 'default';
  if (!DNS_LABEL.test(chosen)) {
    throw new InvalidInputError(option === undefined ? 'DRIVETRAIN_K8S_NAMESPACE' : 'options.kubernetesNamespace', 'a Kubernetes namespace name (DNS-1123 label)', chosen);
  }
  return chosen;
}

/** Validates the options (except the KubeConfig) once and applies defaults. */
export function resolveOptions(options: K8sDriverOptions & { namespace: string }, kubernetesNamespace: string, env: NodeJS.ProcessEnv = process.env): ResolvedK8sOptions {
  // The kit's checks, by option name; a name ending in `Ms` counts milliseconds (and must fit a timer).
  const positive = (field: keyof K8sDriverOptions, fallback: number): number => positiveInteger(options[field], `options.${field}`, fallback, unitOf(field));
  const oneOf = <T extends string>(field: keyof K8sDriverOptions, allowed: readonly T[], fallback: T): T => oneOfAllowed(options[field], `options.${field}`, allowed, fallback);
  for (const key of Object.keys(options.labels ?? {})) {
    if (key.startsWith('drivetrain.')) throw new InvalidInputError(`options.labels[${JSON.stringify(key)}]`, 'a key not starting with "drivetrain." (reserved)', key);
  }
  for (const [name, source] of Object.entries(options.secretEnv ?? {})) {
    if (typeof source?.secret !== 'string' || typeof source.key !== 'string') {
      throw new InvalidInputError(`options.secretEnv.${name}`, 'an object { secret, key, optional? }', source);
    }
  }
  if (options.imagePullSecrets !== undefined && !Array.isArray(options.imagePullSecrets)) {
    throw new InvalidInputError('options.imagePullSecrets', 'an array of Secret names', options.imagePullSecrets);
  }
  if (options.defaultResources !== undefined && (typeof options.defaultResources !== 'object' || options.defaultResources === null || Array.isArray(options.defaultResources))) {
    throw new InvalidInputError('options.defaultResources', 'a resource requirements object { requests?, limits? }', options.defaultResources);
  }
  return {
    ...options,
    logger: options.logger,
    kubernetesNamespace,
    mode: oneOf('mode', ['pod', 'job'] as const, 'pod'),
    imagePullPolicy: oneOf('imagePullPolicy', ['Always', 'IfNotPresent', 'Never'] as const, 'IfNotPresent'),
    accessMode: oneOf('accessMode', ['ReadWriteOnce', 'ReadWriteMany'] as const, 'ReadWriteOnce'),
    defaultVolumeSizeBytes: positive('defaultVolumeSizeBytes', 2 ** 30),
    helperImage: helperImageOf(options.helperImage, env),
    securityProfile: oneOf('securityProfile', ['none', 'restricted'] as const, 'none'),
    startTimeoutMs: positive('startTimeoutMs', 300_000),
    pullTimeoutMs: positive('pullTimeoutMs', 120_000),
    livenessIntervalMs: positive('livenessIntervalMs', 90_000),
    nodeLostTimeoutMs: positive('nodeLostTimeoutMs', 60_000),
    splitLogStreams: oneOf('splitLogStreams', ['auto', 'never'] as const, 'auto'),
    closeTimeoutMs: positive('closeTimeoutMs', 60_000),
    ttlSecondsAfterFinished: options.ttlSecondsAfterFinished === undefined ? undefined : positive('ttlSecondsAfterFinished', 0),
    ...resolveOwnerOptions(options),
  };
}

/**
 * The default image of volume helpers: busybox 1.37.0 from Docker Hub, fully qualified and
 * pinned by its manifest list digest (docker-library/repo-info `repos/busybox/remote/1.37.0.md`),
 * so every cluster runs the same bytes whatever its default registry or mirror rewriting.
 */
export const DEFAULT_HELPER_IMAGE = 'docker.io/library/busybox:1.37.0@sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0';

/** The helper image: the option, else `DRIVETRAIN_K8S_HELPER_IMAGE`, else the pinned default. */
function helperImageOf(option: unknown, env: NodeJS.ProcessEnv): string {
  if (option === undefined) return env.DRIVETRAIN_K8S_HELPER_IMAGE || DEFAULT_HELPER_IMAGE;
  if (typeof option !== 'string' || option.trim() === '') throw new InvalidInputError('options.helperImage', 'an image reference', option);
  return option;
}

function unitOf(field: string): 'milliseconds' | 'bytes' | 'seconds' {
  if (field.endsWith('Ms')) return 'milliseconds';
  return field.endsWith('Bytes') ? 'bytes' : 'seconds';
}

/** `imagePullSecrets` in the pod's shape. */
export function pullSecretRefs(names: readonly string[] | undefined): V1LocalObjectReference[] | undefined {
  return names === undefined || names.length === 0 ? undefined : names.map((name) => ({ name }));
}
