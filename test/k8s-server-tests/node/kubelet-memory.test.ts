import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterComponent, KObject } from '../../k8s-server/api.js';
import { startNode } from '../../k8s-server/node/index.js';
import { ContainerLogs } from '../../k8s-server/node/logs/container-logs.js';
import { resolveProfile } from '../../k8s-server/profile/profile.js';
import { MemoryStore } from './memory-store.js';

const docker = new Dockerode();
// The real engine client; its container lists are counted (the calls go through unchanged):
// a list walks every container of the engine, so a pod's end must make none.
let containerLists = 0;
const listContainers = docker.listContainers.bind(docker) as (...args: unknown[]) => unknown;
docker.listContainers = ((...args: unknown[]) => {
  containerLists += 1;
  return listContainers(...args);
}) as typeof docker.listContainers;
const store = new MemoryStore();
const events: Array<{ name: string; reason: string; message: string }> = [];
let node: ClusterComponent;
let stateDir: string;
const ns = 'default';

function pod(name: string, spec: Record<string, unknown>): KObject {
  return store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns } as KObject['metadata'],
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 30, ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  });
}
const terminated = (o: KObject | undefined) => Boolean(o?.status?.containerStatuses?.[0]?.state?.terminated && ['Succeeded', 'Failed'].includes(o.status.phase));

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'node-test-'));
  node = await startNode({
    store,
    docker,
    stateDir,
    instanceId: `test-${randomUUID().slice(0, 8)}`,
    nodeName: 'local-node',
    profile: resolveProfile(),
    containerLogs: new ContainerLogs(join(stateDir, 'pod-logs')),
    recordEvent: (involved, _type, reason, message) => events.push({ name: involved.metadata.name, reason, message }),
  });
});
afterAll(async () => {
  await node.stop({ removeContainers: true });
  await rm(stateDir, { recursive: true, force: true });
});

describe('kubelet on an in-memory store', () => {
  it('runs a pod to Failed with the real exit code and writes a kubelet-shaped status', async () => {
    pod('exit3', { containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 3'] }] });
    const done = await store.waitFor('pods', ns, 'exit3', terminated);
    expect(done!.spec.nodeName).toBe('local-node');
    expect(done!.status.phase).toBe('Failed');
    const state = done!.status.containerStatuses[0].state.terminated;
    expect(state).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(state.containerID).toMatch(/^docker:\/\//);
    expect(done!.status.conditions.map((c: any) => c.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    expect(done!.status.qosClass).toBe('BestEffort');
    expect(events.filter((e) => e.name === 'exit3').map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
  });

  it('reports OOMKilled with exit code 137', async () => {
    pod('oom', {
      containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'head -c 67108864 /dev/zero | tail > /dev/null'], resources: { limits: { memory: '16Mi' } } }],
    });
    const done = await store.waitFor('pods', ns, 'oom', terminated);
    expect(done!.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('deletes gracefully: SIGKILL after the grace period, then the pod is removed', { timeout: 120_000 }, async () => {
    // The pod's own grace is an hour: the deletion's 2 s must win. The upper bound is a deadline
    // that tells 2 s from an hour with room for a loaded machine, not a measure of the kill.
    pod('grace', { terminationGracePeriodSeconds: 3600, containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] });
    await store.waitFor('pods', ns, 'grace', (o) => o?.status?.phase === 'Running', 60_000);
    const started = Date.now();
    store.update('pods', ns, 'grace', (p) => {
      p.metadata.deletionTimestamp = new Date(Date.now() + 2000).toISOString();
      p.metadata.deletionGracePeriodSeconds = 2;
    });
    await store.waitFor('pods', ns, 'grace', (o) => o === undefined, 60_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('waits with CreateContainerConfigError for a missing secret, then runs once it exists', async () => {
    pod('cfg', {
      containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo $V'], env: [{ name: 'V', valueFrom: { secretKeyRef: { name: 'cfgsecret', key: 'k' } } }] }],
    });
    const waiting = await store.waitFor('pods', ns, 'cfg', (o) => o?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(waiting!.status.containerStatuses[0].state.waiting.message).toBe('secret "cfgsecret" not found');
    store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cfgsecret', namespace: ns } as KObject['metadata'], data: { k: Buffer.from('v').toString('base64') } });
    const done = await store.waitFor('pods', ns, 'cfg', terminated);
    expect(done!.status.phase).toBe('Succeeded');
  });

  it('reports ErrImageNeverPull and InvalidImageName', async () => {
    pod('never', { containers: [{ name: 'main', image: 'nosuch-image-xyz:1', imagePullPolicy: 'Never' }] });
    pod('invalid', { containers: [{ name: 'main', image: 'Bad Image!!', imagePullPolicy: 'IfNotPresent' }] });
    await store.waitFor('pods', ns, 'never', (o) => o?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull');
    const invalid = await store.waitFor('pods', ns, 'invalid', (o) => o?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'InvalidImageName');
    expect(invalid!.status.phase).toBe('Pending');
  });

  it('runs init containers in order before the app container, sharing an emptyDir writable by any user', async () => {
    const mount = [{ name: 'shared', mountPath: '/shared' }];
    const step = (name: string, script: string) => ({ name, image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], volumeMounts: mount });
    pod('init', {
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [step('first', 'echo 1 > /shared/order'), step('second', 'echo 2 >> /shared/order')],
      containers: [{ ...step('main', 'test "$(cat /shared/order)" = "$(printf "1\\n2")" && touch /shared/by-nobody'), securityContext: { runAsUser: 65534 } }],
    });
    const pending = await store.waitFor('pods', ns, 'init', (o) => o?.status?.initContainerStatuses?.[0]?.state?.terminated !== undefined || terminated(o));
    expect(pending!.status.initContainerStatuses.map((c: any) => c.name)).toEqual(['first', 'second']);
    const done = await store.waitFor('pods', ns, 'init', terminated);
    expect(done!.status.phase).toBe('Succeeded');
    expect(done!.status.initContainerStatuses.map((c: any) => c.state.terminated.exitCode)).toEqual([0, 0]);
    const initialized = done!.status.conditions.find((c: any) => c.type === 'Initialized');
    expect(initialized).toMatchObject({ status: 'True', reason: 'PodCompleted' });
  });

  it('a failing init container with restartPolicy Never fails the pod; app containers never start', async () => {
    pod('badinit', {
      initContainers: [{ name: 'setup', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 9'] }],
      containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['true'] }],
    });
    const done = await store.waitFor('pods', ns, 'badinit', (o) => o?.status?.phase === 'Failed');
    expect(done!.status.initContainerStatuses[0].state.terminated.exitCode).toBe(9);
    expect(done!.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
  });

  it('a forced removal during a long graceful deletion kills the containers at once', async () => {
    const created = pod('force', { containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] });
    await store.waitFor('pods', ns, 'force', (o) => o?.status?.phase === 'Running');
    store.update('pods', ns, 'force', (p) => {
      p.metadata.deletionTimestamp = new Date(Date.now() + 30_000).toISOString();
      p.metadata.deletionGracePeriodSeconds = 30;
    });
    const started = Date.now();
    store.remove('pods', ns, 'force');
    const filter = { label: [`drivetrain-local-k8s/pod-uid=${created.metadata.uid}`] };
    const events = await docker.getEvents({ filters: { type: ['container'], event: ['destroy'], label: filter.label } });
    const destroyed = new Promise<void>((resolve) => events.once('data', () => resolve()));
    if ((await docker.listContainers({ all: true, filters: filter })).length > 0) await destroyed;
    (events as unknown as { destroy(): void }).destroy();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await docker.listContainers({ all: true, filters: filter })).toHaveLength(0);
  });

  it("a deletion stops and removes every container of the pod (ended, running, its network holder) without listing the engine's", async () => {
    const created = pod('ends', {
      terminationGracePeriodSeconds: 1,
      initContainers: [{ name: 'setup', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['true'] }],
      containers: [
        { name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] },
        { name: 'side', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] },
      ],
    });
    await store.waitFor('pods', ns, 'ends', (o) => (o?.status?.containerStatuses ?? []).filter((c: any) => c.state.running).length === 2, 60_000);
    const filter = { label: [`drivetrain-local-k8s/pod-uid=${created.metadata.uid}`] };
    // The init container's run, the two app containers and the pod's network holder.
    expect(await docker.listContainers({ all: true, filters: filter })).toHaveLength(4);
    const listsBefore = containerLists;
    store.update('pods', ns, 'ends', (p) => {
      p.metadata.deletionTimestamp = new Date(Date.now() + 1000).toISOString();
      p.metadata.deletionGracePeriodSeconds = 1;
    });
    await store.waitFor('pods', ns, 'ends', (o) => o === undefined, 60_000);
    expect(containerLists - listsBefore).toBe(0);
    expect(await docker.listContainers({ all: true, filters: filter })).toHaveLength(0);
    const killing = events.filter((e) => e.name === 'ends' && e.reason === 'Killing').map((e) => e.message);
    expect(killing.sort()).toEqual(['Stopping container main', 'Stopping container side']);
  });
});
