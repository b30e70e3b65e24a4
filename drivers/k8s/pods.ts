import type { V1Pod } from '@kubernetes/client-node';
import { abortReason } from '../../src/abort.js';
import { isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';

/** Pod operations shared by tasks, sandboxes and helpers. */

/** The pod from the informer's cache, else from a GET; `undefined` when it does not exist. */
export async function getPod(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
  ctx.watcher.ensureStarted();
  const cached = ctx.watcher.cached(name);
  if (cached !== undefined) return cached;
  try {
    return await ctx.call(`get pod "${name}"`, () => ctx.core.readNamespacedPod({ name, namespace: ctx.ns }), signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The freshest view of a pod: a GET, not the cache. */
export async function readPod(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
  try {
    return await ctx.call(`get pod "${name}"`, () => ctx.core.readNamespacedPod({ name, namespace: ctx.ns }), signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deletes a pod; "already gone" is success. */
export async function deletePod(ctx: K8sContext, name: string, gracePeriodSeconds: number, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.call(`delete pod "${name}"`, () => ctx.core.deleteNamespacedPod({ name, namespace: ctx.ns, gracePeriodSeconds }), signal);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Resolves with `decide(pod)`'s first defined answer, re-asked on every informer event
 * of that pod (`undefined` pod = deleted) and whenever the cache re-lists. Event-driven:
 * no polling.
 */
export function watchPod<T>(ctx: K8sContext, name: string, decide: (pod: V1Pod | undefined) => T | undefined, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let checking = false;
    let recheck = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const consider = (pod: V1Pod | undefined): void => {
      if (settled) return;
      try {
        const answer = decide(pod);
        if (answer !== undefined) finish(() => resolve(answer));
      } catch (error) {
        finish(() => reject(error));
      }
    };
    // Re-reads the pod (cache, else GET) without overlapping reads.
    const refresh = (): void => {
      if (checking) {
        recheck = true;
        return;
      }
      checking = true;
      getPod(ctx, name, signal).then(
        (pod) => {
          checking = false;
          consider(pod);
          if (recheck && !settled) {
            recheck = false;
            refresh();
          }
        },
        (error: unknown) => {
          checking = false;
          finish(() => reject(error));
        },
      );
    };
    const unsubscribe = ctx.watcher.subscribe((event) => {
      if (event.type === 'resync') return refresh();
      if (event.pod.metadata?.name !== name) return;
      consider(event.type === 'delete' ? undefined : event.pod);
    });
    const onAbort = (): void => finish(() => reject(abortReason(signal as AbortSignal)));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    refresh();
  });
}

/** The pod's latest events, oldest first, as "Reason: message" lines. Best effort: never throws. */
export async function recentEvents(ctx: K8sContext, name: string, limit = 8): Promise<string[]> {
  try {
    const list = await ctx.core.listNamespacedEvent({ namespace: ctx.ns, fieldSelector: `involvedObject.name=${name}` });
    return list.items
      .sort((a, b) => eventTime(a) - eventTime(b))
      .slice(-limit)
      .map((event) => `${event.reason ?? 'Event'}: ${event.message ?? ''}`.trim());
  } catch {
    return [];
  }
}

function eventTime(event: { lastTimestamp?: Date; eventTime?: Date; metadata?: { creationTimestamp?: Date } }): number {
  const when = event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp;
  return when === undefined ? 0 : new Date(when).getTime();
}
