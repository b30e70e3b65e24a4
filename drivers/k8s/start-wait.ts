import type { V1Pod } from '@kubernetes/client-node';
import { ContainerStartError, ImagePullError, StartTimeoutError } from '../../src/errors.js';
import type { K8sContext } from './context.js';
import { hasStarted, isPullFailing, startProblem, taskContainerStatus, type StartProblem } from './pod-status.js';
import { recentEvents, watchPod } from './pods.js';
import { ServiceWatch } from './services.js';
import type { ResolvedService } from '../../src/services.js';

/** The pod a start waits for. */
export interface StartTarget {
  pod: string;
  image: string;
  /** Told each new reason the pod is waiting for (a task's start publishes it as `drivetrain:task:waiting`); helpers have none. */
  waiting?: (reason: string, message?: string) => void;
  /** The pod as its create answered, when this start created it. */
  created?: V1Pod;
  /** The pod's services: one that ends before it is ready, or stays unready past its timeout, fails the start. */
  services?: readonly ResolvedService[];
}

/** Why a pod that has not started is waiting: its container's waiting reason, else an unschedulable condition. */
export function waitingReason(pod: V1Pod): { reason: string; message?: string } | undefined {
  const waiting = taskContainerStatus(pod)?.state?.waiting;
  if (waiting?.reason !== undefined) return { reason: waiting.reason, ...(waiting.message === undefined ? {} : { message: waiting.message }) };
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled !== undefined) return { reason: unscheduled.reason ?? 'Unschedulable', ...(unscheduled.message === undefined ? {} : { message: unscheduled.message }) };
  return undefined;
}

/**
 * Waits until the pod's task container has started (or already ended). A pod that can
 * never start, stays in a failing pull past the pull timeout, or is not running by the
 * start timeout is deleted and the typed error (with the pod's recent events) thrown.
 * Each change of the waiting reason is told to `target.waiting`.
 */
export async function waitForStart(ctx: K8sContext, target: StartTarget, signal?: AbortSignal): Promise<V1Pod> {
  // The create's answer stands for the first read (no GET); later rounds read the cache.
  let known = target.created;
  const { pod: name, image } = target;
  const { startTimeoutMs, pullTimeoutMs } = ctx.options;
  const startedAt = Date.now();
  let pullFailingSince: number | undefined;
  let lastPod: V1Pod | undefined;
  let lastReported = '';
  // The last ErrImagePull message: ImagePullBackOff does not repeat it.
  let pullError: string | undefined;
  let pullErrorFromEvents = false;
  const report = (pod: V1Pod): void => {
    const waiting = waitingReason(pod);
    const key = waiting === undefined ? '' : `${waiting.reason}\n${waiting.message ?? ''}`;
    if (waiting === undefined || key === lastReported || target.waiting === undefined) return;
    lastReported = key;
    target.waiting(waiting.reason, waiting.message);
  };
  const services = target.services === undefined || target.services.length === 0 ? undefined : new ServiceWatch(target.services);
  type Outcome = { pod: V1Pod } | { problem: StartProblem } | { recheck: true } | { readEvents: true } | { service: Error };
  const decide = (pod: V1Pod | undefined): Outcome | undefined => {
    if (pod === undefined) throw new ContainerStartError('Deleted', `pod "${name}" was deleted before its container started`);
    lastPod = pod;
    if (hasStarted(pod)) return { pod };
    report(pod);
    const now = Date.now();
    const serviceProblem = services?.problem(pod, now);
    if (serviceProblem instanceof Error) return { service: serviceProblem };
    const failingBefore = pullFailingSince;
    pullFailingSince = isPullFailing(pod) ? (pullFailingSince ?? now) : undefined;
    const waiting = taskContainerStatus(pod)?.state?.waiting;
    if (waiting?.reason === 'ErrImagePull' && waiting.message !== undefined) pullError = waiting.message;
    const problem = startProblem(pod, now - startedAt, pullFailingSince === undefined ? undefined : now - pullFailingSince, { startTimeoutMs, pullTimeoutMs }, pullError);
    // A back-off whose pull error this wait never saw: the kubelet's Failed event has it.
    if (problem === undefined && waiting?.reason === 'ImagePullBackOff' && pullError === undefined && !pullErrorFromEvents) return { readEvents: true };
    if (problem !== undefined) return { problem };
    // A pull just started failing, or a service's readiness clock just started: re-arm the timer.
    return (failingBefore === undefined && pullFailingSince !== undefined) || serviceProblem === 'clock' ? { recheck: true } : undefined;
  };
  for (;;) {
    const now = Date.now();
    const untilStart = startedAt + startTimeoutMs - now;
    const untilPull = pullFailingSince === undefined ? Number.POSITIVE_INFINITY : pullFailingSince + pullTimeoutMs - now;
    const untilService = services?.untilNextTimeout(now) ?? Number.POSITIVE_INFINITY;
    // Timer-driven re-check: the timeouts must fire even when no event arrives.
    const tick = AbortSignal.timeout(Math.max(50, Math.min(untilStart, untilPull, untilService) + 20));
    const outcome = await watchPod(ctx, name, decide, signal === undefined ? tick : AbortSignal.any([tick, signal]), undefined, known).catch((error: unknown) => {
      if (signal?.aborted || !tick.aborted) throw error;
      return lastPod === undefined ? undefined : decide(lastPod);
    });
    known = undefined;
    if (outcome === undefined) {
      if (Date.now() - startedAt >= startTimeoutMs) throw new StartTimeoutError(`pod "${name}" did not appear within ${startTimeoutMs} ms`, startTimeoutMs);
      continue;
    }
    if ('recheck' in outcome) continue;
    if ('readEvents' in outcome) {
      pullErrorFromEvents = true;
      pullError = (await recentEvents(ctx, name)).reverse().find((event) => event.startsWith('Failed: Failed to pull image'));
      continue;
    }
    if ('pod' in outcome) return outcome.pod;
    if ('service' in outcome) throw outcome.service;
    const problem = outcome.problem;
    const events = await recentEvents(ctx, name);
    const detail = events.length === 0 ? '' : `; recent events: ${events.join(' | ')}`;
    if (problem.kind === 'image') throw new ImagePullError(image, problem.reason, `${problem.reason}: ${problem.message}${detail}`);
    if (problem.kind === 'start') throw new ContainerStartError(problem.reason, `pod "${name}" cannot start: ${problem.reason}: ${problem.message}${detail}`);
    throw new StartTimeoutError(`pod "${name}" ${problem.message}${detail}`, startTimeoutMs);
  }
}
