import { describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { profileCluster, randomName, type ProfileCluster } from './helpers.js';

/**
 * Job conditions and fields as each version's controller writes them: from 1.31 (with
 * JobManagedBy or JobPodReplacementPolicy) the interim SuccessCriteriaMet / FailureTarget
 * first, as its own status update; before, Complete / Failed at once.
 */

const [v128, v130, v131, v131plain] = await Promise.all([
  profileCluster({ kubeVersion: '1.28' }),
  profileCluster({ kubeVersion: '1.30' }),
  profileCluster({ kubeVersion: '1.31' }),
  profileCluster({ kubeVersion: '1.31', featureGates: 'JobManagedBy=false,JobPodReplacementPolicy=false' }),
]);

const finished = (job: KObject | undefined) => (job?.status?.conditions ?? []).some((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

/** Runs a job of `script`; returns the finished job and every list of condition types it went through. */
async function runJob(c: ProfileCluster, script: string): Promise<{ job: KObject; seen: string[][] }> {
  const name = randomName('job');
  const seen: string[][] = [];
  const unsubscribe = c.cluster.store.subscribe((event) => {
    if (event.resource !== 'jobs' || event.object.metadata.name !== name) return;
    const types = (event.object.status?.conditions ?? []).map((cond: any) => cond.type);
    if (types.length && JSON.stringify(types) !== JSON.stringify(seen.at(-1))) seen.push(types);
  });
  try {
    await c.batch.createNamespacedJob({
      namespace: c.namespace,
      body: { metadata: { name }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] }] } } } },
    });
    const job = (await c.waitFor('jobs', name, finished))!;
    return { job, seen };
  } finally {
    unsubscribe();
  }
}

const shape = (job: KObject) => (job.status.conditions as any[]).map((cond) => ({ type: cond.type, reason: cond.reason, message: cond.message }));

describe('Job conditions by version', () => {
  it('success: Complete alone (no reason) before 1.31; SuccessCriteriaMet then Complete, CompletionsReached, from 1.31', async () => {
    const [old, v31, plain] = await Promise.all([runJob(v130, 'exit 0'), runJob(v131, 'exit 0'), runJob(v131plain, 'exit 0')]);
    expect(shape(old.job)).toEqual([{ type: 'Complete', reason: undefined, message: undefined }]);
    const reached = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    expect(shape(v31.job)).toEqual([{ type: 'SuccessCriteriaMet', ...reached }, { type: 'Complete', ...reached }]);
    // The interim condition was written on its own first.
    expect(v31.seen).toEqual([['SuccessCriteriaMet'], ['SuccessCriteriaMet', 'Complete']]);
    // 1.31 with both gates off: no delay, the 1.31 reason.
    expect(shape(plain.job)).toEqual([{ type: 'Complete', ...reached }]);
    expect(v31.job.status.completionTime).toBe(v31.job.status.conditions[1].lastTransitionTime);
  });

  it('failure: Failed at once before 1.31; FailureTarget then Failed from 1.31', async () => {
    const [old, v31] = await Promise.all([runJob(v130, 'exit 1'), runJob(v131, 'exit 1')]);
    const limit = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    expect(shape(old.job)).toEqual([{ type: 'Failed', ...limit }]);
    expect(shape(v31.job)).toEqual([{ type: 'FailureTarget', ...limit }, { type: 'Failed', ...limit }]);
    expect(v31.seen[0]).toEqual(['FailureTarget']);
  });

  it('podReplacementPolicy and status.terminating only with JobPodReplacementPolicy (1.29+); ready always', async () => {
    const [old, v31] = await Promise.all([runJob(v128, 'exit 0'), runJob(v131, 'exit 0')]);
    expect(old.job.spec).not.toHaveProperty('podReplacementPolicy');
    expect(old.job.status).not.toHaveProperty('terminating');
    expect(old.job.status).toMatchObject({ ready: 0, succeeded: 1 });
    expect(v31.job.spec.podReplacementPolicy).toBe('TerminatingOrFailed');
    expect(v31.job.status).toMatchObject({ ready: 0, terminating: 0, succeeded: 1 });
  });
});
