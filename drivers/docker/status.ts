import type Dockerode from 'dockerode';
import type { ContainerStatus } from '../../src/types.js';
import { DOCKER_LABELS } from './naming.js';

/** The status of a container that no longer exists (removed by someone else, or by cleanup). */
export const DELETED_STATUS: ContainerStatus = Object.freeze({
  done: true,
  exitCode: null,
  reason: 'Deleted',
  message: 'the container was removed before its exit code could be read',
});

// A deadline kill is recognised when the run lasted at least this close to the deadline.
const DEADLINE_SLACK_MS = 50;

/**
 * A container's status from its inspect data. Exit codes are the engine's: the
 * process's own code, 128+n after signal n (137 after SIGKILL, the OOM killer or a
 * deadline kill). `created` and `dead` containers are reported as such, never as running.
 */
export function statusFromInspect(info: Dockerode.ContainerInspectInfo, killedForDeadline: boolean): ContainerStatus {
  const state = info.State;
  switch (state.Status) {
    case 'running':
    case 'restarting':
      return { done: false, exitCode: null };
    case 'removing':
      // The engine reports `removing` only once the process stopped: its container is going away.
      return { ...DELETED_STATUS };
    case 'paused':
      return { done: false, exitCode: null, reason: 'Paused', message: 'the container is paused' };
    case 'created':
      // drivetrain starts a container right after creating it: one left in `created`
      // failed to start or was made by hand, and its process never ran.
      return state.Error
        ? { done: true, exitCode: null, reason: 'StartError', message: state.Error }
        : { done: true, exitCode: null, reason: 'Created', message: 'the container was created but never started' };
    case 'dead':
      return { done: true, exitCode: null, reason: 'Dead', message: state.Error || 'the engine failed to remove the container' };
    case 'exited': {
      const exitCode = state.ExitCode;
      if (state.OOMKilled) return { done: true, exitCode, reason: 'OOMKilled', message: 'the process exceeded its memory limit' };
      if ((killedForDeadline && exitCode === 137) || ranIntoDeadline(info)) {
        return { done: true, exitCode, reason: 'DeadlineExceeded', message: `killed after its timeout of ${info.Config.Labels?.[DOCKER_LABELS.timeoutMs]} ms` };
      }
      if (exitCode === 0) return { done: true, exitCode, reason: 'Completed' };
      return state.Error ? { done: true, exitCode, reason: 'Error', message: state.Error } : { done: true, exitCode, reason: 'Error' };
    }
    default:
      return { done: false, exitCode: null, reason: state.Status };
  }
}

/** A SIGKILL at (or after) the task's deadline, seen by any driver instance through the timeout label. */
function ranIntoDeadline(info: Dockerode.ContainerInspectInfo): boolean {
  const timeout = Number(info.Config.Labels?.[DOCKER_LABELS.timeoutMs]);
  if (!Number.isFinite(timeout) || info.State.ExitCode !== 137) return false;
  const ran = Date.parse(info.State.FinishedAt) - Date.parse(info.State.StartedAt);
  return Number.isFinite(ran) && ran >= timeout - DEADLINE_SLACK_MS;
}

/** Milliseconds left before a running task's deadline (negative when past), or undefined without one. */
export function deadlineRemainingMs(info: Dockerode.ContainerInspectInfo): number | undefined {
  const timeout = Number(info.Config.Labels?.[DOCKER_LABELS.timeoutMs]);
  const started = Date.parse(info.State.StartedAt);
  if (!Number.isFinite(timeout) || !Number.isFinite(started) || info.State.Status !== 'running') return undefined;
  return started + timeout - Date.now();
}
