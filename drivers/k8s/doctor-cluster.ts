import { randomBytes } from 'node:crypto';
import type { CoreV1Api, KubeConfig, V1Pod, V1StorageClass } from '@kubernetes/client-node';
import { anySignal } from '../../src/abort.js';
import { CollectingWritable } from '../../src/logs.js';
import { validateTask } from '../../src/validate.js';
import { messageWithCause, statusBodyOf, statusCodeOf } from './api-errors.js';
import type { DoctorCheck } from '../../src/types.js';
import { K8sDriver } from './driver.js';
import { probeSplitStreams } from './log-streams.js';
import { helperPodName, TASK_CONTAINER } from './naming.js';
import type { ResolvedK8sOptions } from './options.js';
import { buildHelperPod, buildPod, IDLE_COMMAND, RESTRICTED_HELPER_USER } from './pod-spec.js';
import { V5_PROTOCOL } from './exec-protocol.js';
import { clientNode } from './sdk.js';

/**
 * The doctor's checks of how the cluster serves the driver: split log streams, the default
 * StorageClass, Pod Security (and quota) admission of the driver's pods, the exec protocol.
 * Each never throws (but for an aborted `signal`): it reports.
 */

/** Statuses that mean "this server (or this identity) cannot answer that": nothing to fix in the driver's options. */
function unverifiable(error: unknown): boolean {
  const status = statusCodeOf(error);
  return status === 401 || status === 403 || status === 404 || status === 405 || status === 501;
}

function reasonOf(error: unknown): string {
  return statusBodyOf(error)?.message ?? messageWithCause(error);
}

/** Whether the API server reads stdout and stderr apart (the same probe as the driver's first `logs()`). */
export async function logStreamsCheck(kc: KubeConfig, options: ResolvedK8sOptions, signal?: AbortSignal): Promise<DoctorCheck> {
  const name = 'log streams';
  if (options.splitLogStreams === 'never') return { name, ok: true, detail: "combined into stdout (splitLogStreams: 'never')" };
  // The options are validated before the pod is looked up, so a pod that does not exist does.
  const split = await probeSplitStreams({ kc, namespace: options.kubernetesNamespace, pod: 'drivetrain-doctor-probe', container: TASK_CONTAINER }, signal);
  if (split === undefined) return { name, ok: null, detail: 'unknown: the probe read of pods/log got no answer that tells (401, 403, 429, 5xx or none)' };
  return split
    ? { name, ok: true, detail: "stdout and stderr apart (pods/log stream served); if the nodes' kubelets lack PodLogsQuerySplitStreams, set splitLogStreams: 'never'" }
    : { name, ok: true, detail: 'combined into stdout (this API server does not serve pods/log stream: 1.31 or older, or PodLogsQuerySplitStreams off)' };
}

function describeClass(sc: V1StorageClass): string {
  const mode = sc.volumeBindingMode ?? 'Immediate';
  const binding = mode === 'WaitForFirstConsumer' ? 'WaitForFirstConsumer: a claim binds where its first pod is scheduled (helpers and tasks take the same scheduling options)' : mode;
  return `"${sc.metadata?.name}" (provisioner ${sc.provisioner}, volumeBindingMode ${binding})`;
}

/** The StorageClass volumes' claims get: `storageClassName`, or the cluster's default. */
export async function storageClassCheck(kc: KubeConfig, options: ResolvedK8sOptions, signal?: AbortSignal): Promise<DoctorCheck> {
  const name = 'storage class';
  const storage = kc.makeApiClient(clientNode().StorageV1Api);
  try {
    if (options.storageClassName !== undefined) {
      try {
        const sc = await storage.readStorageClass({ name: options.storageClassName });
        return { name, ok: true, detail: `${describeClass(sc)}, from options.storageClassName` };
      } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
        return { name, ok: false, detail: `StorageClass "${options.storageClassName}" (options.storageClassName) does not exist, so volumes would stay Pending: name one that \`kubectl get storageclass\` lists` };
      }
    }
    const classes = (await storage.listStorageClass()).items;
    // The newest default wins where several are marked (Kubernetes 1.26+, KEP-3333's admission).
    const defaults = classes
      .filter((sc) => sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')
      .sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')));
    const chosen = defaults[0];
    if (chosen === undefined) {
      return { name, ok: false, detail: 'no default StorageClass, so volumes would stay Pending: set options.storageClassName, or mark a class default (annotation storageclass.kubernetes.io/is-default-class=true)' };
    }
    return { name, ok: true, detail: `default ${describeClass(chosen)}` };
  } catch (error) {
    signal?.throwIfAborted();
    if (unverifiable(error)) return { name, ok: null, detail: `cannot read StorageClasses (cluster-scoped; see docs/rbac.md for the optional ClusterRole): ${reasonOf(error)}` };
    return { name, ok: false, detail: `reading StorageClasses failed: ${reasonOf(error)}` };
  }
}

/** The namespace's Pod Security `enforce` label, or why it is unknown. */
async function enforcedLevel(core: CoreV1Api, namespace: string): Promise<string> {
  try {
    const ns = await core.readNamespace({ name: namespace });
    const labels = ns.metadata?.labels ?? {};
    const level = labels['pod-security.kubernetes.io/enforce'];
    if (level === undefined) return `namespace "${namespace}" has no Pod Security enforce label (the cluster's default level applies)`;
    const version = labels['pod-security.kubernetes.io/enforce-version'];
    return `namespace "${namespace}" enforces Pod Security "${level}"${version === undefined ? '' : ` (version ${version})`}`;
  } catch (error) {
    return `namespace "${namespace}" not readable (${statusCodeOf(error) ?? 'no answer'}), its Pod Security level unknown`;
  }
}

/** What to do about a pod that admission refused, from the refusal's wording. */
function remedy(message: string, options: ResolvedK8sOptions): string {
  if (message.includes('violates PodSecurity')) {
    return options.securityProfile === 'restricted' ? 'adjust podTemplate, which overrides the restricted settings' : "set securityProfile: 'restricted' (and give tasks a numeric non-root user)";
  }
  if (message.includes('exceeded quota') || message.includes('must specify')) return 'set defaultResources (requests and limits), or give each task its limits';
  return 'see docs/drivers/k8s.md (hardened clusters)';
}

/**
 * Pod Security level and admission: the namespace's `enforce` label, and a dry-run create
 * (admission runs, nothing is stored) of a task pod and a volume helper as these options
 * build them, so Pod Security and ResourceQuota refusals show before any task runs.
 */
export async function podAdmissionCheck(kc: KubeConfig, options: ResolvedK8sOptions, signal?: AbortSignal): Promise<DoctorCheck> {
  const name = 'pod security';
  const core = kc.makeApiClient(clientNode().CoreV1Api);
  const level = await enforcedLevel(core, options.kubernetesNamespace);
  const user = options.securityProfile === 'restricted' ? { user: RESTRICTED_HELPER_USER } : {};
  const task = validateTask({ id: 'doctor', image: options.helperImage, command: [...IDLE_COMMAND], ...user });
  const pods: Array<[string, V1Pod]> = [
    ['task', buildPod(task, { role: 'task', command: task.command, stdin: false }, options)],
    ['volume helper', buildHelperPod(helperPodName(options.namespace, 'doctor'), 'doctor', { path: '/data', readOnly: false }, options)],
  ];
  for (const [role, pod] of pods) {
    try {
      await core.createNamespacedPod({ namespace: options.kubernetesNamespace, body: pod, dryRun: 'All' });
    } catch (error) {
      signal?.throwIfAborted();
      const message = reasonOf(error);
      const refusedByAdmission = statusCodeOf(error) === 403 && (message.includes('violates PodSecurity') || message.includes('quota') || message.includes('must specify'));
      if (refusedByAdmission) return { name, ok: false, detail: `${level}; a ${role} pod is refused: ${message}; ${remedy(message, options)}` };
      if (unverifiable(error)) return { name, ok: null, detail: `${level}; admission not checked (dry-run create of a ${role} pod: ${message})` };
      return { name, ok: false, detail: `${level}; dry-run create of a ${role} pod failed: ${message}` };
    }
  }
  return { name, ok: true, detail: `${level}; task and volume helper pods are admitted (dry run)` };
}

/** What the probe sandbox's `cat` is given and must echo. */
const PROBE_INPUT = 'drivetrain doctor\n';

const PROBE_ADVICE = 'check that the image can be pulled (helperImage, DRIVETRAIN_K8S_HELPER_IMAGE) and the scheduling options (nodeSelector, tolerations)';

/**
 * The exec/attach subprotocol, negotiated for real: a sandbox of the helper image is started
 * with these options, runs `cat` with input over exec, and is removed (the driver's own close reaps it).
 * Also proves that the driver's pods are scheduled, pulled and started here.
 */
export async function execProtocolCheck(kc: KubeConfig, options: ResolvedK8sOptions, timeoutMs: number, caller?: AbortSignal): Promise<DoctorCheck> {
  const name = 'exec protocol';
  const signal = anySignal([caller, AbortSignal.timeout(timeoutMs)]);
  const driver = new K8sDriver(kc, { ...options, namespace: `doctor-${randomBytes(4).toString('hex')}` });
  try {
    const user = options.securityProfile === 'restricted' ? { user: RESTRICTED_HELPER_USER } : {};
    const sandbox = await driver.startSandbox({ id: 'doctor', image: options.helperImage, ...user }, { signal });
    // With input: the protocol is negotiated for commands that read stdin, and their input's end must arrive.
    const echoed = new CollectingWritable();
    const status = await sandbox.exec(['cat'], { stdin: PROBE_INPUT, stdout: echoed, signal });
    const protocol = driver.execProtocol ?? 'unknown';
    if (status.exitCode !== 0 || echoed.text() !== PROBE_INPUT) {
      return { name, ok: false, detail: `${protocol}, but \`cat\` in a sandbox ended ${status.reason ?? `with ${status.exitCode}`} and echoed ${JSON.stringify(echoed.text())}` };
    }
    const detail = protocol === V5_PROTOCOL ? `${protocol} (stdin ends with the CLOSE frame)` : `${protocol} (below v5: commands with input read it framed; docs/drivers/k8s.md, Stdin)`;
    return { name, ok: true, detail };
  } catch (error) {
    caller?.throwIfAborted();
    if (signal.aborted) return { name, ok: false, detail: `a probe sandbox of ${options.helperImage} did not run \`cat\` within ${timeoutMs} ms; ${PROBE_ADVICE}` };
    const cause = (error as { cause?: unknown }).cause ?? error;
    const status = statusCodeOf(cause);
    if (status === 401 || status === 403) return { name, ok: null, detail: `not checked: the probe sandbox was not allowed (${reasonOf(cause)})` };
    if (status === 404 || status === 405 || status === 501) return { name, ok: null, detail: `not checked: the server does not serve pods here (${reasonOf(cause)})` };
    return {
      name,
      ok: false,
      detail: `a probe sandbox of ${options.helperImage} did not run: ${messageWithCause(error)}; ${PROBE_ADVICE}`,
    };
  } finally {
    await driver.close().catch(() => {});
  }
}
