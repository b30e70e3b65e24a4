import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, mergePatch, podBody, startApiCluster, statusOf, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

let h: ApiHarness;
let ns: string;
beforeAll(async () => {
  h = await startApiCluster();
  ns = await createNamespace(h.core);
});
afterAll(async () => h?.stop());

const jobBody = (name: string) => ({ metadata: { name }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest' }] } } } });

/** A pod owned by the job, as the job controller would create it. */
async function ownedPod(jobName: string, podName: string): Promise<void> {
  const job = await h.batch.readNamespacedJob({ namespace: ns, name: jobName });
  await h.core.createNamespacedPod({
    namespace: ns,
    body: { ...podBody(podName), metadata: { name: podName, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata!.uid!, controller: true }] } },
  });
}

describe('local API server: deletion semantics', () => {
  it('orphans a job’s pods by default, with the Warning header, and answers a Status', async () => {
    await h.batch.createNamespacedJob({ namespace: ns, body: jobBody('orphan') });
    await ownedPod('orphan', 'orphan-pod');
    const response = await h.batch.deleteNamespacedJobWithHttpInfo({ namespace: ns, name: 'orphan' });
    expect(response.headers['warning']).toContain('child pods are preserved by default when jobs are deleted');
    expect(response.data).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'orphan', group: 'batch', kind: 'jobs' } });
    const pod = await h.core.readNamespacedPod({ namespace: ns, name: 'orphan-pod' });
    expect(pod.metadata?.ownerReferences).toBeUndefined();
    expect((await statusOf(h.batch.readNamespacedJob({ namespace: ns, name: 'orphan' }))).code).toBe(404);
  });

  it('keeps a Foreground-deleted job with the foregroundDeletion finalizer until it is removed', async () => {
    await h.batch.createNamespacedJob({ namespace: ns, body: jobBody('fg') });
    await h.batch.deleteNamespacedJob({ namespace: ns, name: 'fg', propagationPolicy: 'Foreground' });
    const job = await h.batch.readNamespacedJob({ namespace: ns, name: 'fg' });
    expect(job.metadata?.finalizers).toContain('foregroundDeletion');
    expect(job.metadata?.deletionTimestamp).toBeDefined();
    await h.batch.patchNamespacedJob({ namespace: ns, name: 'fg', body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await statusOf(h.batch.readNamespacedJob({ namespace: ns, name: 'fg' }))).code).toBe(404);
  });

  it('checks delete preconditions and does not store dry runs', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('pre') });
    const wrongUid = await statusOf(h.core.deleteNamespacedPod({ namespace: ns, name: 'pre', body: { preconditions: { uid: 'not-the-uid' } } }));
    expect(wrongUid).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(wrongUid.message).toContain('Precondition failed: UID in precondition: not-the-uid');
    const dry = await h.core.createNamespacedPod({ namespace: ns, body: podBody('dry'), dryRun: 'All' });
    expect(dry.metadata?.name).toBe('dry');
    expect((await statusOf(h.core.readNamespacedPod({ namespace: ns, name: 'dry' }))).code).toBe(404);
  });

  it('dedupes recorded events by reason and message, counting them', async () => {
    const pod = await h.core.createNamespacedPod({ namespace: ns, body: podBody('ev') });
    const { eventRecorder } = await import('../../k8s-server/events.js');
    const record = eventRecorder(() => h.cluster.store);
    const stored = h.cluster.store.get('pods', ns, 'ev')!;
    record(stored, 'Warning', 'BackOff', 'Back-off pulling image');
    record(stored, 'Warning', 'BackOff', 'Back-off pulling image');
    record(stored, 'Normal', 'Pulling', 'Pulling image');
    const events = await h.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=ev,involvedObject.kind=Pod,involvedObject.uid=${pod.metadata!.uid}` });
    const byReason = Object.fromEntries(events.items.map((e) => [e.reason, e.count]));
    expect(byReason).toEqual({ BackOff: 2, Pulling: 1 });
    expect(events.items[0]?.source?.component).toBe('kubelet');
  });

  it('removes a graceful pod only when the node removes it, and watchers see DELETED', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('gr') });
    h.cluster.store.update('pods', ns, 'gr', (p) => void (p.spec.nodeName = 'local-node'));
    await h.core.deleteNamespacedPod({ namespace: ns, name: 'gr' });
    const marked = await h.core.readNamespacedPod({ namespace: ns, name: 'gr' });
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(30);
    h.cluster.store.remove('pods', ns, 'gr');
    await eventually(async () => (await statusOf(h.core.readNamespacedPod({ namespace: ns, name: 'gr' }))).code === 404, 15_000, 'the pod to be gone after its grace period');
  });
});
