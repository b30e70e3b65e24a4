import type { ComponentProfile } from '../../profile/profile.js';
import { now } from './shared.js';

/** How a job ended, before it is written as conditions. */
export interface JobOutcome {
  success: boolean;
  reason?: string;
  message?: string;
}

/** A batch/v1 JobCondition (True). */
export interface JobCondition {
  type: string;
  status: 'True';
  lastProbeTime: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

const INTERIM: Record<'success' | 'failure', string> = { success: 'SuccessCriteriaMet', failure: 'FailureTarget' };
const FINAL: Record<'success' | 'failure', string> = { success: 'Complete', failure: 'Failed' };

/** pkg/controller/job/job_controller.go newCondition: empty reason and message are left out. */
export function jobCondition(type: string, outcome: JobOutcome): JobCondition {
  const time = now();
  return { type, status: 'True', lastProbeTime: time, lastTransitionTime: time, ...(outcome.reason ? { reason: outcome.reason } : {}), ...(outcome.message ? { message: outcome.message } : {}) };
}

/**
 * How the reproduced version's Job controller writes a job's end (pkg/controller/job/
 * job_controller.go syncJob, trackJobStatusAndRemoveFinalizers, enactJobFinished).
 */
export class JobConditionRules {
  constructor(private readonly server: ComponentProfile) {}

  /**
   * From 1.31, with JobManagedBy or JobPodReplacementPolicy on, the interim condition
   * (SuccessCriteriaMet / FailureTarget) is written first and Complete / Failed only once no
   * pod of the job is terminating (delayTerminalCondition, KEP-4368 and KEP-3939); before,
   * Complete / Failed is written at once.
   */
  get delayed(): boolean {
    return this.server.minor >= 31 && (this.server.enabled('JobManagedBy') || this.server.enabled('JobPodReplacementPolicy'));
  }

  /** status.terminating is tracked with JobPodReplacementPolicy (1.29+ by default), KEP-3939. */
  get tracksTerminating(): boolean {
    return this.server.enabled('JobPodReplacementPolicy');
  }

  /**
   * Reaching `completions`: from 1.31 reason CompletionsReached, "Reached expected number of
   * succeeded pods" (k8s.io/api batch/v1 JobReasonCompletionsReached, added in 1.31); before,
   * a Complete condition without reason or message.
   */
  completions(): JobOutcome {
    return this.server.minor >= 31 ? { success: true, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' } : { success: true };
  }

  /** The condition written first: the interim one when delayed, else the final one. */
  first(outcome: JobOutcome): JobCondition {
    return jobCondition((this.delayed ? INTERIM : FINAL)[outcome.success ? 'success' : 'failure'], outcome);
  }

  /** The final condition (Complete / Failed), with the reason and message of the interim one. */
  final(outcome: JobOutcome): JobCondition {
    return jobCondition(FINAL[outcome.success ? 'success' : 'failure'], outcome);
  }

  /** The outcome a job's interim condition already records (a later sync finishes it). */
  static interim(conditions: Array<{ type: string; status: string; reason?: string; message?: string }>): JobOutcome | undefined {
    const found = conditions.find((c) => (c.type === INTERIM.success || c.type === INTERIM.failure) && c.status === 'True');
    if (!found) return undefined;
    return { success: found.type === INTERIM.success, ...(found.reason ? { reason: found.reason } : {}), ...(found.message ? { message: found.message } : {}) };
  }
}
