import type { V1Pod } from '@kubernetes/client-node';
import type { Container, ContainerStatus, LogOptions, OperationOptions } from '../../src/types.js';
import type { K8sContext } from './context.js';
import { readPodLogs, probeSplitStreams } from './logs.js';
import { TASK_CONTAINER } from './naming.js';
import { hasStarted, toContainerStatus } from './pod-status.js';
import { deletePod, getPod, readPod, watchPod } from './pods.js';
import { deleteJob } from './jobs.js';

/** Per-driver memory of whether the server splits log streams (probed once, on a started pod). */
export interface LogStreamSupport {
  split?: boolean;
}

/**
 * A task's pod as a drivetrain Container. Status reads the informer's cache (a GET when
 * the cache has not synced or lacks the pod); wait resolves on informer events. The pod
 * stays (logs readable) until `cleanup` or the driver's `close`.
 */
export class TaskContainer implements Container {
  constructor(
    private readonly ctx: K8sContext,
    readonly id: string,
    /** The pod's name (in job mode, the pod the Job made). */
    readonly podName: string,
    private readonly logSupport: LogStreamSupport,
    /** Job mode: the Job to delete on cleanup. */
    private readonly jobName?: string,
  ) {}

  async status(options: OperationOptions = {}): Promise<ContainerStatus> {
    return toContainerStatus(await getPod(this.ctx, this.podName, options.signal));
  }

  wait(options: OperationOptions = {}): Promise<ContainerStatus> {
    return watchPod(this.ctx, this.podName, (pod) => {
      const status = toContainerStatus(pod);
      return status.done ? status : undefined;
    }, options.signal);
  }

  async logs(options: LogOptions = {}): Promise<void> {
    const signal = options.signal;
    const ctx = this.ctx;
    const source = {
      kc: ctx.kc,
      namespace: ctx.ns,
      pod: this.podName,
      container: TASK_CONTAINER,
      waitForStart: (s?: AbortSignal) => watchPod(ctx, this.podName, (pod) => (pod === undefined ? false : hasStarted(pod) ? true : toContainerStatus(pod).done ? false : undefined), s),
      hasEnded: async (s?: AbortSignal) => toContainerStatus(await readPod(ctx, this.podName, s)).done,
      retry: ctx.options.retry,
    };
    if (this.logSupport.split === undefined) {
      const pod = await getPod(ctx, this.podName, signal);
      if (pod !== undefined && !hasStarted(pod) && options.follow === true) await source.waitForStart(signal);
      this.logSupport.split = (await probeSplitStreams(source, signal)) ?? undefined;
    }
    await readPodLogs(source, { stdout: options.stdout, stderr: options.stderr, follow: options.follow === true, split: this.logSupport.split === true, signal });
  }

  async cleanup(options: OperationOptions = {}): Promise<void> {
    if (this.jobName !== undefined) await deleteJob(this.ctx, this.jobName, options.signal);
    await removePod(this.ctx, this.podName, options.signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** Deletes a pod at once and waits (at most 30 s) until it is gone; "already gone" is success. */
export async function removePod(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<void> {
  await deletePod(ctx, name, 0, signal);
  const bound = AbortSignal.timeout(30_000);
  await watchPod(ctx, name, (pod: V1Pod | undefined) => (pod === undefined ? true : undefined), signal === undefined ? bound : AbortSignal.any([bound, signal])).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    // Bounded: a pod still terminating after the wait is left to the API server.
  });
}

