import type { V1Pod } from '@kubernetes/client-node';
import type { Container, ContainerStatus, LogOptions, LogResult, OperationOptions } from '../../src/types.js';
import type { K8sContext } from './context.js';
import { readPodLogs } from './logs.js';
import type { LogStreamSupport } from './log-streams.js';
import { TASK_CONTAINER } from './naming.js';
import { hasStarted, isLost, lostAt, toContainerStatus } from './pod-status.js';
import { deletePod, getPod, lostRule, readPod, watchPod } from './pods.js';
import { deleteJob } from './jobs.js';
import { readServiceLogs } from './services.js';

/**
 * A task's container as the k8s driver returns it: the contract's {@link Container}, with the
 * names of the objects it runs in, for `kubectl` and an engine's own messages.
 */
export interface K8sContainer extends Container {
  /** The Pod the task runs in (`kubectl logs <podName>`): in job mode the one the Job made (`<jobName>-<5 random>`). */
  readonly podName: string;
  /** Job mode: the Job's name (`kubectl describe job <jobName>`), `K8sDriver.taskObjectName(id)`; `undefined` in pod mode. */
  readonly jobName: string | undefined;
}

/**
 * A task's pod as a drivetrain Container. Status reads the informer's cache (a GET when
 * the cache has not synced or lacks the pod); wait resolves on informer events. The pod
 * stays (logs readable) until `cleanup` or the driver's `close`.
 */
export class TaskContainer implements K8sContainer {
  constructor(
    private readonly ctx: K8sContext,
    readonly id: string,
    /** The pod's name (in job mode, the pod the Job made). */
    readonly podName: string,
    private readonly logSupport: LogStreamSupport,
    /** Job mode: the Job (deleted on cleanup). */
    readonly jobName: string | undefined,
    /** The container runs on a terminal: its log is the terminal's one stream. */
    private readonly tty = false,
  ) {}

  async status(options: OperationOptions = {}): Promise<ContainerStatus> {
    return this.ctx.life.exited(this, this.id, toContainerStatus(await getPod(this.ctx, this.podName, options.signal), lostRule(this.ctx)));
  }

  /** Resolves on informer events; a pod stuck terminating is re-checked when it is due to count as lost. */
  async wait(options: OperationOptions = {}): Promise<ContainerStatus> {
    const ctx = this.ctx;
    const status = await watchPod(
      ctx,
      this.podName,
      (pod) => {
        const status = toContainerStatus(pod, lostRule(ctx));
        return status.done ? status : undefined;
      },
      options.signal,
      (pod) => (pod === undefined ? undefined : lostAt(pod, ctx.options.nodeLostTimeoutMs)),
    );
    return ctx.life.exited(this, this.id, status);
  }

  async logs(options: LogOptions = {}): Promise<LogResult> {
    if (options.service !== undefined) return readServiceLogs(this.ctx, this.podName, this.id, options, this.logSupport);
    const signal = options.signal;
    const ctx = this.ctx;
    const source = {
      kc: ctx.kc,
      namespace: ctx.ns,
      pod: this.podName,
      container: TASK_CONTAINER,
      waitForStart: (s?: AbortSignal) => watchPod(ctx, this.podName, (pod) => (pod === undefined ? false : hasStarted(pod) ? true : toContainerStatus(pod, lostRule(ctx)).done ? false : undefined), s),
      hasEnded: async (s?: AbortSignal) => toContainerStatus(await readPod(ctx, this.podName, s), lostRule(ctx)).done,
      retry: ctx.options.retry,
      idleTimeoutMs: ctx.options.livenessIntervalMs,
    };
    return readPodLogs(source, { stdout: options.stdout, stderr: options.stderr, follow: options.follow === true, support: this.logSupport, signal, combined: this.tty });
  }

  async cleanup(options: OperationOptions = {}): Promise<void> {
    await this.ctx.life.cleanup(this.id, 'task', async () => {
      if (this.jobName !== undefined) await deleteJob(this.ctx, this.jobName, options.signal);
      await removePod(this.ctx, this.podName, options.signal);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** Longest wait of a removal for the pod to be gone, in ms. */
const REMOVAL_WAIT_MS = 30_000;

/**
 * Deletes a pod gracefully (see `deletePod`) and waits, bounded, until it is gone; "already
 * gone" is success. A pod lost with its node (stuck terminating past its deadline, see
 * `isLost`) is force-deleted, as `kubectl delete --force` would: its node will never confirm.
 */
export async function removePod(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<void> {
  // Heard from before the delete: a pod gone before the wait below starts needs no GET to tell.
  let deleted = false;
  const unsubscribe = ctx.watcher.subscribe((event) => {
    if (event.type === 'delete' && event.pod.metadata?.name === name) deleted = true;
  });
  try {
    await deletePod(ctx, name, signal);
  } finally {
    unsubscribe();
  }
  if (deleted) return;
  const bound = AbortSignal.timeout(REMOVAL_WAIT_MS);
  let forced = false;
  await watchPod(
    ctx,
    name,
    (pod: V1Pod | undefined) => {
      if (pod === undefined) return true;
      if (!forced && isLost(pod, lostRule(ctx))) {
        forced = true;
        void deletePod(ctx, name, signal, { force: true }).catch(() => {});
      }
      return undefined;
    },
    signal === undefined ? bound : AbortSignal.any([bound, signal]),
    (pod) => (pod === undefined || forced ? undefined : lostAt(pod, ctx.options.nodeLostTimeoutMs)),
  ).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    // Bounded: a pod still terminating after the wait is left to the API server.
  });
}
