import type { ClusterContext, KObject, StoreEvent } from '../../api.js';
import { defaultObject } from '../../admission.js';
import { deletePod } from './gc.js';
import { JobConditionRules, type JobOutcome } from './job-conditions.js';
import { admitControllerPod, controllerOf, isActivePod, later, now, Timers } from './shared.js';

const TRACKING = 'batch.kubernetes.io/job-tracking';
const RETRY_CAP_MS = 600_000;

const finished = (job: KObject) => (job.status?.conditions ?? []).some((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

/**
 * batch/v1 Job controller for NonIndexed jobs: one pod at a time until
 * `completions` pods succeeded, retries with back-off up to `backoffLimit`,
 * activeDeadlineSeconds, pod finalizer tracking, ttlSecondsAfterFinished.
 */
export class JobController {
  private readonly timers = new Timers();
  /** When each job (by uid) last saw a pod fail, in ms: the retry back-off counts from there. */
  private readonly lastFailure = new Map<string, number>();

  constructor(private readonly ctx: ClusterContext) {}

  start(): void {
    for (const job of this.ctx.store.list('jobs')) this.reconcile(job.metadata.namespace!, job.metadata.name);
  }

  onEvent(event: StoreEvent): void {
    if (event.resource === 'jobs' && event.type !== 'DELETED') {
      later(() => this.reconcile(event.object.metadata.namespace!, event.object.metadata.name));
    } else if (event.resource === 'pods') {
      const owner = controllerOf(event.object);
      if (owner?.kind === 'Job') later(() => this.reconcile(event.object.metadata.namespace!, owner.name));
    }
  }

  private pods(job: KObject): KObject[] {
    return this.ctx.store.list('pods', job.metadata.namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
  }

  private reconcile(namespace: string, name: string): void {
    const job = this.ctx.store.get('jobs', namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const pods = this.pods(job);
    // Count terminated pods once, then release their tracking finalizer.
    let succeeded = job.status?.succeeded ?? 0;
    let failed = job.status?.failed ?? 0;
    let lastFailure = this.lastFailure.get(job.metadata.uid);
    const counted: KObject[] = [];
    for (const pod of pods) {
      if (!pod.metadata.finalizers?.includes(TRACKING)) continue;
      const phase = pod.status?.phase;
      if (phase === 'Succeeded') succeeded += 1;
      else if (phase === 'Failed' || (pod.metadata.deletionTimestamp && phase !== 'Succeeded')) {
        failed += 1;
        lastFailure = Date.now();
        this.lastFailure.set(job.metadata.uid, lastFailure);
      } else continue;
      counted.push(pod);
    }
    const rules = new JobConditionRules(this.ctx.profile.server);
    const spec = job.spec ?? {};
    const completions = spec.completions ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;
    const startTime = job.status?.startTime ?? now();
    const conditions: any[] = job.status?.conditions ?? [];
    let active = pods.filter(isActivePod);
    // An outcome already recorded by an interim condition, or found now.
    let outcome: JobOutcome | undefined = finished(job) ? undefined : JobConditionRules.interim(conditions);
    const recorded = outcome !== undefined;
    if (!finished(job) && !outcome) {
      if (succeeded >= completions && active.length === 0) outcome = rules.completions();
      else if (failed > backoffLimit) outcome = { success: false, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      else if (typeof spec.activeDeadlineSeconds === 'number') {
        const deadline = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000;
        if (Date.now() >= deadline) outcome = { success: false, reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        else this.timers.set(`deadline/${job.metadata.uid}`, deadline - Date.now(), () => this.reconcile(namespace, name));
      }
    }
    if (outcome && !outcome.success) for (const pod of active) this.deletePod(pod);
    if (outcome) active = [];
    const terminating = this.pods(job).filter((p) => p.metadata.deletionTimestamp).length;
    const status = structuredClone(job.status ?? {});
    status.startTime ??= startTime;
    status.active = active.length;
    status.ready = active.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    if (rules.tracksTerminating) status.terminating = terminating;
    status.succeeded = succeeded;
    status.failed = failed;
    status.uncountedTerminatedPods = {};
    // int32 counters are omitted at 0; ready and terminating are pointers, kept at 0 (k8s.io/api batch/v1 JobStatus).
    for (const key of ['succeeded', 'failed', 'active']) if (status[key] === 0) delete status[key];
    const write = (next: any) => {
      // Writing only real changes keeps the job's own MODIFIED events from re-triggering forever.
      if (JSON.stringify(next) === JSON.stringify(job.status ?? {})) return job;
      return this.ctx.store.update('jobs', namespace, name, (j) => {
        if (j.metadata.uid === job.metadata.uid) j.status = structuredClone(next);
      });
    };
    const first = outcome && !recorded ? rules.first(outcome) : undefined;
    if (first) status.conditions = [...conditions, first];
    if (first?.type === 'Complete') status.completionTime = first.lastTransitionTime;
    let updated = write(status);
    // Delayed: the final condition is a status update of its own, once nothing of the job terminates.
    let final = first && !rules.delayed ? first : undefined;
    if (updated && outcome && rules.delayed && terminating === 0) {
      final = rules.final(outcome);
      status.conditions = [...(status.conditions ?? []), final];
      if (final.type === 'Complete') status.completionTime = final.lastTransitionTime;
      updated = this.ctx.store.update('jobs', namespace, name, (j) => {
        if (j.metadata.uid === job.metadata.uid) j.status = structuredClone(status);
      });
    }
    for (const pod of counted) {
      this.ctx.store.update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
        p.metadata.finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== TRACKING);
      });
    }
    if (!updated) return;
    // pkg/controller/job/job_controller.go recordJobFinished.
    if (final) this.ctx.recordEvent(updated, final.type === 'Complete' ? 'Normal' : 'Warning', final.type === 'Complete' ? 'Completed' : (final.reason ?? ''), final.type === 'Complete' ? 'Job completed' : (final.message ?? ''));
    if (finished(updated)) return this.scheduleTtl(updated);
    if (outcome) return;
    if (active.length > 0 || spec.suspend) return;
    const delay = failed > 0 && lastFailure ? Math.min(RETRY_CAP_MS, 10_000 * 2 ** (failed - 1)) - (Date.now() - lastFailure) : 0;
    if (delay > 0) this.timers.set(`retry/${job.metadata.uid}`, delay, () => this.reconcile(namespace, name));
    else this.createPod(updated);
  }

  private createPod(job: KObject): void {
    const template = job.spec.template ?? {};
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${job.metadata.name}-`,
        namespace: job.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        finalizers: [TRACKING],
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      } as KObject['metadata'],
      spec: structuredClone(template.spec ?? {}),
    };
    defaultObject('pods', pod);
    if (!admitControllerPod(this.ctx, job, pod)) return this.retryLater(job);
    const created = this.ctx.store.create('pods', pod);
    this.ctx.recordEvent(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  /** A refused pod is tried again later, as the controller's rate-limited requeue does. */
  private retryLater(job: KObject): void {
    this.timers.set(`create/${job.metadata.uid}`, 10_000, () => this.reconcile(job.metadata.namespace ?? '', job.metadata.name));
  }

  private deletePod(pod: KObject): void {
    deletePod(this.ctx, pod);
  }

  private scheduleTtl(job: KObject): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number') return;
    const end = (job.status?.conditions ?? []).find((c: any) => c.type === 'Complete' || c.type === 'Failed');
    const at = Date.parse(end?.lastTransitionTime ?? now()) + ttl * 1000;
    this.timers.set(`ttl/${job.metadata.uid}`, at - Date.now(), () => {
      const current = this.ctx.store.get('jobs', job.metadata.namespace, job.metadata.name);
      if (current?.metadata.uid !== job.metadata.uid) return;
      // Background propagation: the job goes now, the garbage collector removes its pods.
      this.ctx.store.remove('jobs', job.metadata.namespace, job.metadata.name);
    });
  }

  stop(): void {
    this.timers.clear();
  }
}
