import type { V1Pod } from '@kubernetes/client-node';
import { delay } from '../../src/abort.js';
import { ConflictError, DrivetrainError } from '../../src/errors.js';
import { LABELS, type ResourceRole } from '../../src/labels.js';
import type { StdinSource } from '../../src/types.js';
import { isAlreadyExists } from './api-errors.js';
import type { K8sContext } from './context.js';
import { deleteJob, findJobPod, readJob } from './jobs.js';
import { TASK_CONTAINER, TASK_ID_ANNOTATION } from './naming.js';
import type { K8sJobObject, K8sTaskObject } from './pod-spec.js';
import { toContainerStatus } from './pod-status.js';
import { readPod } from './pods.js';
import { waitForStart, type StartTarget } from './start-wait.js';
import { attachStdin, type AttachedTerminal } from './remote.js';
import { removePod } from './container.js';
import { StartTimeoutError } from '../../src/errors.js';

/**
 * Creating a task's pod (or Job) idempotently and waiting for it to start. A create
 * that finds the name taken adopts the object when its annotation names the same task
 * (and role), else fails with ConflictError. A start that fails removes what was made.
 */

/** Where the task runs once started. */
export interface StartedTask {
  podName: string;
  jobName?: string;
  /** This call created the object (so it owns stdin). */
  created: boolean;
}

/** Checks that an existing object belongs to the same task and role. */
export function assertSameTask(kind: string, name: string, metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } | undefined, taskId: string, role: ResourceRole): void {
  if (metadata?.annotations?.[TASK_ID_ANNOTATION] !== taskId || metadata.labels?.[LABELS.role] !== role) {
    throw new ConflictError(`${kind} "${name}" already exists for another task or purpose; choose another task ID or drivetrain namespace`);
  }
}

/** Creates the pod (returning the create's answer), or adopts the same task's existing pod (`undefined`). */
async function createOrAdoptPod(ctx: K8sContext, pod: V1Pod, taskId: string, role: ResourceRole, signal?: AbortSignal): Promise<V1Pod | undefined> {
  const name = pod.metadata?.name as string;
  try {
    // Not abortable: an abandoned create may still succeed on the server and leave a pod
    // nobody removes. The caller checks the signal right after and cleans up.
    ctx.made.note('pods');
    // Through the shared watch: a lone create starts it from the pod's resourceVersion, with no LIST.
    return await ctx.watcher.creating(() => ctx.call(`create pod "${name}"`, () => ctx.core.createNamespacedPod({ namespace: ctx.ns, body: pod })));
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = await readPod(ctx, name, signal);
    if (existing === undefined) throw new ConflictError(`pod "${name}" was deleted while being adopted; retry`, { cause: error });
    assertSameTask('pod', name, existing.metadata as never, taskId, role);
    return undefined;
  }
}

/**
 * Creates (or adopts) the task's pod or Job, `object` as the driver built it (`taskObject`),
 * and waits until the process has started. `waiting` hears each new reason the pod is
 * waiting for (the lifecycle's `drivetrain:task:waiting`).
 */
export async function startTask(ctx: K8sContext, object: K8sTaskObject, taskId: string, role: ResourceRole, image: string, signal?: AbortSignal, waiting?: StartTarget['waiting'], services?: StartTarget['services']): Promise<StartedTask> {
  if (object.kind === 'Job') return startJob(ctx, object, taskId, image, signal, waiting, services);
  const pod = object;
  const name = pod.metadata?.name as string;
  signal?.throwIfAborted();
  const createdPod = await createOrAdoptPod(ctx, pod, taskId, role, signal);
  const created = createdPod !== undefined;
  try {
    signal?.throwIfAborted();
    await waitForStart(ctx, { pod: name, image, ...(waiting === undefined ? {} : { waiting }), ...(createdPod === undefined ? {} : { created: createdPod }), ...(services === undefined ? {} : { services }) }, signal);
  } catch (error) {
    if (created || error instanceof DrivetrainError) await removePod(ctx, name).catch(() => {});
    throw error;
  }
  return { podName: name, created };
}

async function startJob(ctx: K8sContext, job: K8sJobObject, taskId: string, image: string, signal?: AbortSignal, waiting?: StartTarget['waiting'], services?: StartTarget['services']): Promise<StartedTask> {
  const name = job.metadata?.name as string;
  let created = true;
  signal?.throwIfAborted();
  try {
    // Not abortable, as for pods: the signal is checked right after, with cleanup.
    // The Job's pod is this driver's doing too.
    ctx.made.note('jobs');
    ctx.made.note('pods');
    await ctx.call(`create job "${name}"`, () => ctx.batch.createNamespacedJob({ namespace: ctx.ns, body: job }));
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = await readJob(ctx, name, signal);
    if (existing === undefined) throw new ConflictError(`job "${name}" was deleted while being adopted; retry`, { cause: error });
    assertSameTask('job', name, existing.metadata as never, taskId, 'task');
    created = false;
  }
  try {
    signal?.throwIfAborted();
    const podName = await findJobPod(ctx, taskId, ctx.options.startTimeoutMs, signal);
    if (podName === undefined) throw new StartTimeoutError(`job "${name}" made no pod within ${ctx.options.startTimeoutMs} ms`, ctx.options.startTimeoutMs);
    await waitForStart(ctx, { pod: podName, image, ...(waiting === undefined ? {} : { waiting }), ...(services === undefined ? {} : { services }) }, signal);
    return { podName, jobName: name, created };
  } catch (error) {
    await deleteJob(ctx, name).catch(() => {});
    throw error;
  }
}

/**
 * Streams the task's stdin (and, on a terminal, its sizes) once its container runs. The
 * attach is retried briefly while the container is still running (a just-started container
 * may not accept it yet); a process that has already ended needs no input.
 */
export async function feedStdin(ctx: K8sContext, podName: string, stdin: StdinSource | undefined, signal?: AbortSignal, terminal?: AttachedTerminal): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await attachStdin(ctx.kc, { namespace: ctx.ns, pod: podName, container: TASK_CONTAINER }, stdin, signal, terminal);
      return;
    } catch (error) {
      if (signal?.aborted || attempt >= 5) throw error;
      const pod = await readPod(ctx, podName, signal).catch(() => undefined);
      if (pod === undefined || toContainerStatus(pod).done) return;
      await delay(200 * (attempt + 1), signal);
    }
  }
}
