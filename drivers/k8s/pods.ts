import type { V1Pod } from '@kubernetes/client-node';
import type { LostPodRule } from './pod-status.js';
import { abortReason, anySignal } from '../../src/abort.js';
import { EngineUnavailableError } from '../../src/errors.js';
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

/**
 * Deletes a pod gracefully, never by force: the API server removes the object only once the
 * kubelet confirms the containers are gone. Without `gracePeriodSeconds` the pod's own
 * `terminationGracePeriodSeconds` applies (the driver's pods have at least 1 s); 0 — a force
 * delete, the object gone at once while the process may still run — is only for pods lost
 * with their node. "Already gone" is success.
 */
export async function deletePod(ctx: K8sContext, name: string, signal?: AbortSignal, options: { force?: boolean } = {}): Promise<void> {
  try {
    await ctx.call(`delete pod "${name}"`, () => ctx.core.deleteNamespacedPod({ name, namespace: ctx.ns, ...(options.force === true ? { gracePeriodSeconds: 0 } : {}) }), signal);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Liveness reads of one pod in a row that may fail (unanswered, unreachable) before a wait gives up. */
const MAX_FAILED_READS = 3;

/** The lost-node rule of this driver, now (see `toContainerStatus`). */
export function lostRule(ctx: K8sContext): LostPodRule {
  return { now: Date.now(), nodeLostTimeoutMs: ctx.options.nodeLostTimeoutMs };
}

/**
 * Resolves with `decide(pod)`'s first defined answer, re-asked on every informer event
 * of that pod (`undefined` pod = deleted), whenever the cache re-lists, and — so that a
 * silent watch connection cannot stall it — on a fresh GET of the pod every liveness
 * interval (and at `recheckAt(pod)`, when that is sooner: a time-based decision).
 * Each read must be answered within the interval (a half-open connection answers nothing);
 * after {@link MAX_FAILED_READS} failed reads in a row, with no event between them, the
 * wait rejects with `EngineUnavailableError`.
 *
 * `known` is a view of the pod already in hand (the answer to its create): the first
 * decision is made on it when the cache lacks the pod, instead of a GET; the informer's
 * events (the pod's ADDED among them) carry on from there.
 */
export function watchPod<T>(
  ctx: K8sContext,
  name: string,
  decide: (pod: V1Pod | undefined) => T | undefined,
  signal?: AbortSignal,
  recheckAt?: (pod: V1Pod | undefined) => number | undefined,
  known?: V1Pod,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let checking = false;
    let recheck = false;
    let timer: NodeJS.Timeout | undefined;
    let lastPod: V1Pod | undefined;
    let seen = false;
    let failedReads = 0;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const consider = (pod: V1Pod | undefined): void => {
      if (settled) return;
      lastPod = pod;
      seen = true;
      failedReads = 0;
      try {
        const answer = decide(pod);
        if (answer !== undefined) return finish(() => resolve(answer));
      } catch (error) {
        return finish(() => reject(error));
      }
      schedule();
    };
    // The next fresh read: a jittered liveness interval, or sooner when the decision is due.
    const schedule = (): void => {
      clearTimeout(timer);
      const interval = ctx.options.livenessIntervalMs * (0.8 + Math.random() * 0.4);
      const due = recheckAt?.(lastPod);
      const wait = Math.max(20, Math.min(interval, due === undefined ? Number.POSITIVE_INFINITY : due - Date.now() + 20));
      timer = setTimeout(() => refresh(readPod), wait);
      timer.unref();
    };
    // Re-reads the pod (cache, else GET; or always GET) without overlapping reads.
    const refresh = (read: typeof getPod = getPod): void => {
      if (checking) {
        recheck = true;
        return;
      }
      checking = true;
      const answered = anySignal([signal], ctx.options.livenessIntervalMs);
      read(ctx, name, answered).then(
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
          if (signal?.aborted) return finish(() => reject(error));
          const failure = answered.aborted
            ? new EngineUnavailableError(`the API server did not answer a read of pod "${name}" within ${ctx.options.livenessIntervalMs} ms (livenessIntervalMs): a half-open connection or a server that is gone`, { cause: error })
            : error;
          // A failed liveness read is not fatal: events, or the next read, will tell.
          if (seen && ++failedReads < MAX_FAILED_READS) return schedule();
          finish(() => reject(failure));
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
    const cached = ctx.watcher.cached(name);
    if (known !== undefined && cached === undefined) consider(known);
    else refresh();
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
