import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ContainerStatus } from '../../src/types.js';
import { TASK_CONTAINER } from './naming.js';
import { isPermanentPullFailure } from './pull-errors.js';

/**
 * Pure mapping of pod objects to drivetrain statuses. Exit codes come only from the
 * task container's `state.terminated.exitCode`; everything else is `null` with a reason.
 */

/** The status of a task whose pod is gone (deleted by someone, or by cleanup). */
export const DELETED: ContainerStatus = Object.freeze({ done: true, exitCode: null, reason: 'Deleted', message: 'the pod was deleted' });

/**
 * Waiting reasons after which the container can never start, whatever the wait.
 * `CreateContainerError` is not one: kubelets retry it with back-off (a runtime that could not
 * create the container now may later), so it is waited out until the start timeout.
 */
export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'RunContainerError']);
/** Waiting reasons of a pull that may still succeed (bounded by the pull timeout). */
export const PULL_WAITING_REASONS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff']);
const IMAGE_REASONS: ReadonlySet<string> = new Set(['InvalidImageName', 'ErrImageNeverPull', ...PULL_WAITING_REASONS]);

/** The task container's status entry, if the kubelet reported one. */
export function taskContainerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((status) => status.name === TASK_CONTAINER) ?? pod.status?.containerStatuses?.[0];
}

/**
 * The reason the node lifecycle controller of older Kubernetes versions put on the pods of
 * an unreachable node (`pkg/util/node` `NodeUnreachablePodReason`); kubectl prints such a
 * terminating pod as `Unknown`. Also the reason drivetrain reports for a pod lost with its node.
 */
export const NODE_LOST_REASON = 'NodeLost';

/** The clock and the bound of the lost-node judgement (see {@link lostAt}). */
export interface LostPodRule {
  /** Now, in ms since the epoch. */
  now: number;
  /** How long a pod may stay terminating past its deletion deadline, in ms. */
  nodeLostTimeoutMs: number;
}

/**
 * When a terminating pod counts as lost with its node, in ms since the epoch: its deletion
 * deadline (`deletionTimestamp`, which already includes the grace period) plus the timeout.
 * A healthy kubelet removes the pod soon after that deadline; one that never does no longer
 * answers. `undefined` for a pod that is not terminating.
 */
export function lostAt(pod: V1Pod, nodeLostTimeoutMs: number): number | undefined {
  const at = pod.metadata?.deletionTimestamp;
  if (at === undefined || at === null) return undefined;
  const deadline = new Date(at).getTime();
  return Number.isNaN(deadline) ? undefined : deadline + nodeLostTimeoutMs;
}

/** True when the pod is terminating and its node has not confirmed it gone in time (see {@link lostAt}). */
export function isLost(pod: V1Pod, rule: LostPodRule | undefined): boolean {
  if (pod.metadata?.deletionTimestamp === undefined || pod.metadata.deletionTimestamp === null) return false;
  if (pod.status?.reason === NODE_LOST_REASON) return true;
  const at = rule === undefined ? undefined : lostAt(pod, rule.nodeLostTimeoutMs);
  return at !== undefined && rule !== undefined && rule.now >= at;
}

/**
 * The drivetrain status of a pod (`undefined` = the pod no longer exists). With `lost`, a
 * pod stuck terminating past its deletion deadline plus the timeout (its node no longer
 * answers) is done: `{ exitCode: null, reason: 'NodeLost' }`.
 */
export function toContainerStatus(pod: V1Pod | undefined, lost?: LostPodRule): ContainerStatus {
  if (pod === undefined) return DELETED;
  const podReason = pod.status?.reason;
  const container = taskContainerStatus(pod);
  const terminated = container?.state?.terminated;
  // The runtime's 128 is not the process's code: no process ran.
  const neverRan = terminated !== undefined && START_FAILURE_REASONS.has(terminated.reason ?? '');
  if (neverRan && !deadlineExceeded(pod)) return withDetail({ done: true, exitCode: null }, terminated.reason, terminated.message);
  const phase = pod.status?.phase;
  const terminal = phase === 'Failed' || phase === 'Succeeded';
  // The pod's phase (and its reason: DeadlineExceeded, Evicted) is final only once the phase is;
  // a container exit seen before that may still be re-labelled (e.g. by the deadline).
  if (terminated !== undefined && (terminal || pod.metadata?.deletionTimestamp !== undefined)) {
    // A pod-level reason (DeadlineExceeded, Evicted) explains the end better than the container's "Error".
    const reason = podReason ?? terminated.reason;
    // The kubelet's 137 for a container it lost track of is a placeholder, not the process's code.
    const exitCode = terminated.reason === LOST_CONTAINER_REASON || neverRan ? null : terminated.exitCode;
    return withDetail({ done: true, exitCode }, reason, terminated.message ?? pod.status?.message);
  }
  if (terminal && terminated === undefined) {
    // Ended without a recorded container exit (evicted, deadline before start, node lost): no code to report.
    return withDetail({ done: true, exitCode: null }, podReason ?? 'Error', pod.status?.message ?? 'the pod ended without a container exit code');
  }
  if (isLost(pod, lost)) {
    const since = pod.metadata?.deletionTimestamp;
    return {
      done: true,
      exitCode: null,
      reason: NODE_LOST_REASON,
      message: `the pod has been terminating since ${since instanceof Date ? since.toISOString() : String(since)} and its node has not reported it gone; its process may still run there`,
    };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason !== undefined && FATAL_WAITING_REASONS.has(waiting.reason)) {
    return withDetail({ done: true, exitCode: null }, waiting.reason, waiting.message);
  }
  return { done: false, exitCode: null };
}

/** The kubelet's reason for a container it lost (its exit code, 137, is a placeholder). */
export const LOST_CONTAINER_REASON = 'ContainerStatusUnknown';

/** Terminated reasons that mean the runtime could not start the process (its "exit code" is the runtime's). */
export const START_FAILURE_REASONS: ReadonlySet<string> = new Set(['ContainerCannotRun', 'StartError']);

/**
 * True when the pod's own deadline (`activeDeadlineSeconds`) ended it: it timed out, whatever
 * its container reports (a deadline that passes while the container is being started leaves
 * the runtime's start failure in its status).
 */
function deadlineExceeded(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === 'DeadlineExceeded';
}

/** True when the container ended without its process ever running (and not because the pod's deadline stopped it). */
export function failedToStart(pod: V1Pod): boolean {
  if (deadlineExceeded(pod)) return false;
  const reason = taskContainerStatus(pod)?.state?.terminated?.reason;
  return reason !== undefined && START_FAILURE_REASONS.has(reason);
}

/**
 * True when the kubelet refused the pod before running anything (its admission: `OutOfcpu`,
 * `OutOfmemory`, `NodeAffinity`, `UnexpectedAdmissionError`, …): phase Failed with a reason and
 * no container that ever ran (pkg/kubelet/kubelet.go `rejectPod`). A pod that only ran out of
 * its own deadline before starting is not refused: it timed out (`DeadlineExceeded`).
 */
export function rejectedAtAdmission(pod: V1Pod): boolean {
  if (pod.status?.phase !== 'Failed' || pod.status.reason === undefined || pod.status.reason === 'DeadlineExceeded') return false;
  const state = taskContainerStatus(pod)?.state;
  return state?.running === undefined && state?.terminated === undefined;
}

/** True once the task's process has started (or already ended). */
export function hasStarted(pod: V1Pod): boolean {
  if (failedToStart(pod) || rejectedAtAdmission(pod)) return false;
  const state = taskContainerStatus(pod)?.state;
  return state?.running !== undefined || state?.terminated !== undefined || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Why a pod cannot start, as the driver reports it. */
export interface StartProblem {
  kind: 'image' | 'start' | 'timeout';
  reason: string;
  message: string;
}

/**
 * Whether a pod that has not started should be given up on, given how long it has been
 * waiting (`elapsedMs`), how long its image pull has been failing (`pullFailingMs`) and the
 * last pull error seen (`pullError`: the `ErrImagePull` message, which `ImagePullBackOff`
 * does not repeat). A pull the registry refused for good fails at once.
 */
export function startProblem(
  pod: V1Pod,
  elapsedMs: number,
  pullFailingMs: number | undefined,
  limits: { startTimeoutMs: number; pullTimeoutMs: number },
  pullError?: string,
): StartProblem | undefined {
  if (failedToStart(pod)) {
    const terminated = taskContainerStatus(pod)?.state?.terminated;
    return { kind: 'start', reason: terminated?.reason ?? 'StartError', message: terminated?.message ?? 'the runtime could not start the process' };
  }
  if (rejectedAtAdmission(pod)) return { kind: 'start', reason: pod.status?.reason ?? 'Rejected', message: pod.status?.message ?? 'the kubelet refused the pod' };
  if (hasStarted(pod)) return undefined;
  const waiting = taskContainerStatus(pod)?.state?.waiting;
  const reason = waiting?.reason;
  const message = waiting?.message ?? reason ?? '';
  if (reason !== undefined && FATAL_WAITING_REASONS.has(reason)) {
    return { kind: IMAGE_REASONS.has(reason) ? 'image' : 'start', reason, message };
  }
  if (reason !== undefined && PULL_WAITING_REASONS.has(reason)) {
    const cause = reason === 'ErrImagePull' ? message : pullError;
    if (isPermanentPullFailure(cause)) return { kind: 'image', reason, message: cause ?? message };
  }
  if (reason !== undefined && PULL_WAITING_REASONS.has(reason) && pullFailingMs !== undefined && pullFailingMs >= limits.pullTimeoutMs) {
    return { kind: 'image', reason, message: `${message} (still failing after ${limits.pullTimeoutMs} ms)` };
  }
  if (elapsedMs >= limits.startTimeoutMs) {
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const why = unschedulable?.message ?? (reason === undefined ? `phase ${pod.status?.phase ?? 'unknown'}` : `${reason}: ${message}`);
    return { kind: 'timeout', reason: unschedulable?.reason ?? reason ?? 'Timeout', message: `did not start within ${limits.startTimeoutMs} ms (${why})` };
  }
  return undefined;
}

/** True when the pod's image pull is failing right now. */
export function isPullFailing(pod: V1Pod): boolean {
  const reason = taskContainerStatus(pod)?.state?.waiting?.reason;
  return reason !== undefined && PULL_WAITING_REASONS.has(reason);
}

function withDetail(status: ContainerStatus, reason: string | undefined, message: string | undefined): ContainerStatus {
  return { ...status, ...(reason === undefined ? {} : { reason }), ...(message === undefined || message === '' ? {} : { message }) };
}
