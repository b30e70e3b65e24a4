import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../src/labels.js';
import { TASK_ID_ANNOTATION, toLabelValue } from './naming.js';
import { abortReason } from '../../src/abort.js';
import { isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';

/** Job-mode helpers: the Job owns one pod, found by the task's label and annotation. */

/** Deletes a Job and (Background propagation) its pods, each with its own grace period; "already gone" is success. */
export async function deleteJob(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.call(`delete job "${name}"`, () => ctx.batch.deleteNamespacedJob({ name, namespace: ctx.ns, propagationPolicy: 'Background' }), signal);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Reads a Job; `undefined` when it does not exist. */
export async function readJob(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<V1Job | undefined> {
  try {
    return await ctx.call(`get job "${name}"`, () => ctx.batch.readNamespacedJob({ name, namespace: ctx.ns }), signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** True when `pod` runs task `taskId`. */
export function isTaskPod(pod: V1Pod, taskId: string): boolean {
  return pod.metadata?.annotations?.[TASK_ID_ANNOTATION] === taskId && pod.metadata?.labels?.[LABELS.role] === 'task';
}

/**
 * Waits (event-driven, bounded by `timeoutMs`) for the pod the Job made for `taskId`;
 * resolves with its name, or `undefined` when none appeared in time.
 */
export async function findJobPod(ctx: K8sContext, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const list = async (): Promise<string | undefined> => {
    const pods = await ctx.call('list task pods', () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector: `${LABELS.taskId}=${toLabelValue(taskId)}` }), signal);
    return pods.items.find((pod) => isTaskPod(pod, taskId))?.metadata?.name;
  };
  const found = await list();
  if (found !== undefined || timeoutMs <= 0) return found;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    timer.unref();
    const finish = (name: string | undefined, error?: unknown): void => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve(name);
    };
    const onAbort = (): void => finish(undefined, abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = ctx.watcher.subscribe((event) => {
      if (event.type === 'change' && isTaskPod(event.pod, taskId)) finish(event.pod.metadata?.name);
      if (event.type === 'resync') list().then((name) => name !== undefined && finish(name), () => {});
    });
  });
}
