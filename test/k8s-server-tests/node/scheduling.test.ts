import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { busyboxPod, containerState, randomName, startTestCluster, type TestCluster } from './helpers.js';

/**
 * The scheduler's filters and the kubelet's admission on a node with a label, a NoSchedule
 * taint and 2 cores: what a pod that does not fit looks like, as real clusters write it.
 */

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster({
    node: { labels: { pool: 'ci' }, taints: [{ key: 'dedicated', value: 'ci', effect: 'NoSchedule' }], allocatable: { cpu: '2', memory: '4Gi' } },
  });
});
afterAll(async () => {
  await t?.stop();
});

const tolerateCi = { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }] };
const scheduled = (o: KObject | undefined) => (o?.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
const events = async (name: string) => (await t.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}'])).stdout;

describe('scheduling and kubelet admission on a tainted, labelled node', () => {
  it('a pod that does not tolerate the taint stays Pending, Unschedulable, with the FitError message and a FailedScheduling event', async () => {
    const name = randomName('taint');
    await t.apply(busyboxPod(name, 'true'));
    const pod = await t.waitFor('pods', name, (o) => scheduled(o)?.status === 'False');
    const message = '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ci}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
    expect(scheduled(pod)).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(pod?.spec.nodeName).toBeUndefined();
    expect(await events(name)).toContain(`FailedScheduling|${message}`);
    const tolerating = randomName('tolerates');
    await t.apply(busyboxPod(tolerating, 'true', { spec: { ...tolerateCi, nodeSelector: { pool: 'ci' } } }));
    await t.waitFor('pods', tolerating, (o) => o?.status?.phase === 'Succeeded');
  });

  it('a nodeSelector the node does not match keeps the pod Pending with the node affinity message', async () => {
    const name = randomName('selector');
    await t.apply(busyboxPod(name, 'true', { spec: { ...tolerateCi, nodeSelector: { pool: 'gpu' } } }));
    const pod = await t.waitFor('pods', name, (o) => scheduled(o)?.status === 'False');
    expect(scheduled(pod)?.message).toBe("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
  });

  it('the kubelet rejects a pod bound to the node that does not fit: Failed with its reason, no container state', async () => {
    const affinity = randomName('reject-affinity');
    await t.apply(busyboxPod(affinity, 'true', { spec: { ...tolerateCi, nodeName: 'local-node', nodeSelector: { pool: 'gpu' } } }));
    const rejected = await t.waitFor('pods', affinity, (o) => o?.status?.phase === 'Failed');
    expect(rejected?.status).toMatchObject({ phase: 'Failed', reason: 'NodeAffinity', message: "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" });
    expect(rejected?.status.containerStatuses).toBeUndefined();
    const cpu = randomName('reject-cpu');
    await t.apply(busyboxPod(cpu, 'true', { spec: { ...tolerateCi, nodeName: 'local-node' }, container: { resources: { requests: { cpu: '3' } } } }));
    const outOfCpu = await t.waitFor('pods', cpu, (o) => o?.status?.phase === 'Failed');
    expect(outOfCpu?.status).toMatchObject({ reason: 'OutOfcpu', message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000" });
    expect(containerState(outOfCpu)).toBeUndefined();
    expect(await events(cpu)).toContain("OutOfcpu|Node didn't have enough resource: cpu");
  });

  it('a pod that needs more cpu than is free waits, and is scheduled once another pod ends', async () => {
    const big = randomName('big');
    const waiting = randomName('waiting');
    await t.apply(busyboxPod(big, 'read x', { spec: tolerateCi, container: { stdin: true, resources: { requests: { cpu: '1500m' } } } }));
    await t.waitFor('pods', big, (o) => o?.status?.phase === 'Running');
    await t.apply(busyboxPod(waiting, 'true', { spec: tolerateCi, container: { resources: { requests: { cpu: '1' } } } }));
    const pending = await t.waitFor('pods', waiting, (o) => scheduled(o)?.status === 'False');
    expect(scheduled(pending)?.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    expect((await t.kubectl(['delete', 'pod', big, '--grace-period=1'])).code).toBe(0);
    await t.waitFor('pods', waiting, (o) => o?.status?.phase === 'Succeeded');
  });
});
