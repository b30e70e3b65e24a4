import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPod, containerState, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster();
});
afterAll(async () => {
  await t?.stop();
});

const podsOf = (selector: string) => t.cluster.store.list('pods', t.namespace, selector);
const isReady = (pod: any) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

describe('node controllers', () => {
  it('a job with backoffLimit 1 failing twice is Failed with BackoffLimitExceeded', async () => {
    const name = randomName('fail');
    await t.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 2'] }] } } },
    });
    const failed = await t.waitFor('jobs', name, (o) => (o?.status?.conditions ?? []).some((c: any) => c.type === 'Failed'), 40_000);
    expect(failed!.status.failed).toBe(2);
    expect(failed!.status.conditions.map((c: any) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ]);
    const pods = podsOf(`job-name=${name}`);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name, controller: true });
      expect(containerState(pod).terminated.exitCode).toBe(2);
    }
    const waited = await t.kubectl(['wait', '--for=condition=failed', `job/${name}`, '--timeout=5s']);
    expect(waited.code).toBe(0);
  }, 60_000);

  it('a deployment keeps 2 ready pods and replaces a deleted one', async () => {
    const name = randomName('web');
    await t.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] } },
      },
    });
    const available = await t.kubectl(['wait', '--for=condition=Available', `deployment/${name}`, '--timeout=30s']);
    expect(available.code).toBe(0);
    await t.waitFor('deployments', name, (o) => o?.status?.readyReplicas === 2);
    const before = podsOf(`app=${name}`);
    expect(before.filter(isReady)).toHaveLength(2);
    expect(before[0]!.metadata.name).toMatch(new RegExp(`^${name}-[a-z0-9]{10}-[a-z0-9]{5}$`));
    const victim = before[0]!.metadata.name;
    expect((await t.kubectl(['delete', 'pod', victim])).code).toBe(0);
    await t.waitFor('deployments', name, () => {
      const pods = podsOf(`app=${name}`);
      return pods.filter(isReady).length === 2 && !pods.some((p) => p.metadata.name === victim);
    });
    const deleted = await t.kubectl(['delete', 'deployment', name]);
    expect(deleted.code).toBe(0);
    await t.waitFor('deployments', name, () => podsOf(`app=${name}`).length === 0);
  });

  it('a bound claim shares data between two pods and goes away with its volume', async () => {
    const claim = randomName('data');
    await t.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } });
    const bound = await t.waitFor('persistentvolumeclaims', claim, (o) => o?.status?.phase === 'Bound');
    expect(bound!.status.capacity.storage).toBe('2Gi');
    expect(bound!.spec.volumeName).toBe(`pvc-${bound!.metadata.uid}`);
    expect(bound!.metadata.annotations?.['pv.kubernetes.io/bind-completed']).toBe('yes');
    const volume = { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] }, container: { volumeMounts: [{ name: 'd', mountPath: '/data' }] } };
    const writer = randomName('writer');
    await t.apply(busyboxPod(writer, 'echo shared > /data/file', volume));
    expect((await t.waitFor('pods', writer, isFinished))!.status.phase).toBe('Succeeded');
    const reader = randomName('reader');
    await t.apply(busyboxPod(reader, 'cat /data/file', volume));
    expect((await t.waitFor('pods', reader, isFinished))!.status.phase).toBe('Succeeded');
    expect((await t.kubectl(['logs', reader])).stdout).toBe('shared\n');
    expect((await t.kubectl(['delete', 'pvc', claim, '--wait=false'])).code).toBe(0);
    await t.waitFor('persistentvolumeclaims', claim, (o) => o === undefined);
    // The finished pods' containers still hold the volume; it goes once they are deleted.
    expect((await t.kubectl(['delete', 'pod', writer, reader])).code).toBe(0);
    const dockerVolume = new Dockerode().getVolume(`k8s-pvc-${bound!.metadata.uid}`);
    const deadline = Date.now() + 5_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = await dockerVolume.inspect().then(() => false, (error: { statusCode?: number }) => error.statusCode === 404);
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gone).toBe(true);
  });

  it('a pod waits for a missing claim and starts once it is bound', async () => {
    const claim = randomName('late');
    const name = randomName('waiter');
    await t.apply(busyboxPod(name, 'ls /data', { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] }, container: { volumeMounts: [{ name: 'd', mountPath: '/data' }] } }));
    await t.waitFor('pods', name, (o) => Boolean(o?.spec?.nodeName));
    expect(t.cluster.store.get('pods', t.namespace, name)!.status.phase).toBe('Pending');
    await t.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    expect((await t.waitFor('pods', name, isFinished))!.status.phase).toBe('Succeeded');
  });

  it('kubectl delete job (Background) lets the garbage collector remove its pods; ttlSecondsAfterFinished 0 removes a finished job', async () => {
    const job = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { ...extra, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] }] } } },
    });
    const long = randomName('long');
    await t.apply(job(long, 'sleep 600'));
    await t.waitFor('jobs', long, (o) => o?.status?.active === 1);
    expect((await t.kubectl(['delete', 'job', long])).code).toBe(0);
    await t.waitFor('jobs', long, () => podsOf(`job-name=${long}`).length === 0);
    const short = randomName('ttl');
    await t.apply(job(short, 'exit 0', { ttlSecondsAfterFinished: 0 }));
    await t.waitFor('jobs', short, (o) => o === undefined);
    await t.waitFor('jobs', short, () => podsOf(`job-name=${short}`).length === 0);
  });

  it('a job past its activeDeadlineSeconds fails with DeadlineExceeded and its pod is stopped', { timeout: 120_000 }, async () => {
    const name = randomName('late');
    await t.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { activeDeadlineSeconds: 1, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] } } },
    });
    const failed = await t.waitFor('jobs', name, (o) => (o?.status?.conditions ?? []).some((c: any) => c.type === 'Failed'), 60_000);
    expect(failed!.status.conditions.find((c: any) => c.type === 'Failed').reason).toBe('DeadlineExceeded');
    await t.waitFor('jobs', name, () => podsOf(`job-name=${name}`).every((p) => p.status?.phase === 'Failed' || p.metadata.deletionTimestamp));
  });
});
