import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { statusOf } from '../api/helpers.js';
import { isFinished, isRunning, profileCluster, randomName, type ProfileCluster } from './helpers.js';

/** Pods by version: sidecar init containers, status fields, and deletion. */

const [v128, v129, skewed, v130, v131] = await Promise.all([
  profileCluster({ kubeVersion: '1.28' }),
  profileCluster({ kubeVersion: '1.29' }),
  profileCluster({ kubeVersion: '1.29', kubeletVersion: '1.28' }),
  profileCluster({ kubeVersion: '1.30' }),
  profileCluster({ kubeVersion: '1.31' }),
]);
const docker = new Dockerode();

const busybox = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra });

/** A pod with a sidecar init container (`restartPolicy: Always`) that never exits by itself, once `until` holds. */
const sidecarPod = (c: ProfileCluster, until: (pod: KObject | undefined) => boolean) =>
  c.runPod('echo main', until, { spec: { terminationGracePeriodSeconds: 1, initContainers: [busybox('side', 'echo side; sleep 600', { restartPolicy: 'Always' })] } });

const stateOf = (pod: KObject | undefined, list: 'initContainerStatuses' | 'containerStatuses', container: string) => pod?.status?.[list]?.find((s: any) => s.name === container)?.state;
const sideRunning = (pod: KObject | undefined) => stateOf(pod, 'initContainerStatuses', 'side')?.running !== undefined;

describe('sidecar init containers by version', () => {
  it('1.29+: the sidecar starts, the main container runs beside it, the pod succeeds and the sidecar is stopped', async () => {
    const pod = await sidecarPod(v129, isFinished);
    expect(pod.spec.initContainers[0].restartPolicy).toBe('Always');
    expect(pod.status.phase).toBe('Succeeded');
    expect(stateOf(pod, 'containerStatuses', 'main').terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // Stopped by the kubelet after the main container: SIGTERM ignored by sh, SIGKILL after the grace period.
    expect(stateOf(pod, 'initContainerStatuses', 'side').terminated.exitCode).toBe(137);
    expect(pod.status.conditions.find((cond: any) => cond.type === 'Initialized')).toMatchObject({ status: 'True' });
  });

  it('1.28: the field is dropped, so it runs as an ordinary init container and the main container waits', async () => {
    const pod = await sidecarPod(v128, sideRunning);
    expect(pod.spec.initContainers[0]).not.toHaveProperty('restartPolicy');
    expect(stateOf(pod, 'containerStatuses', 'main')).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(pod.status.phase).toBe('Pending');
  });

  it('a 1.29 API server keeps the field, but a 1.28 kubelet runs it as an ordinary init container', async () => {
    const pod = await sidecarPod(skewed, sideRunning);
    expect(pod.spec.initContainers[0].restartPolicy).toBe('Always');
    expect(stateOf(pod, 'containerStatuses', 'main')).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('validation: an init container restartPolicy other than Always, and any on a regular container, are 422', async () => {
    const invalid = await statusOf(
      v129.core.createNamespacedPod({
        namespace: v129.namespace,
        body: { metadata: { name: randomName('bad') }, spec: { initContainers: [busybox('i', 'true', { restartPolicy: 'OnFailure' }) as never], containers: [busybox('m', 'true', { restartPolicy: 'Always' }) as never] } },
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.details.causes).toEqual([
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "OnFailure": supported values: "Always"', field: 'spec.initContainers[0].restartPolicy' },
      { reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for non-init containers', field: 'spec.containers[0].restartPolicy' },
    ]);
  });
});

/** A sidecar serving TCP that starts listening late, held back by its startup probe. */
const serving = (probe: Record<string, unknown>) =>
  busybox('side', 'sleep 0.5; exec busybox nc -ll -p 7070 -e echo pong', { restartPolicy: 'Always', startupProbe: { periodSeconds: 1, failureThreshold: 30, ...probe } });
const servedPod = (c: ProfileCluster, probe: Record<string, unknown>) =>
  c.runPod('busybox nc 127.0.0.1 7070 </dev/null', isFinished, { spec: { terminationGracePeriodSeconds: 1, initContainers: [serving(probe)] } });

describe('sidecars with startup probes, in the pod network namespace', () => {
  it('1.29+: a tcpSocket startup probe holds the main container until the sidecar listens; the main container reaches it at localhost', async () => {
    const pod = await servedPod(v129, { tcpSocket: { port: 7070 } });
    expect(pod.status.phase).toBe('Succeeded');
    const log = await v129.get(`/api/v1/namespaces/${v129.namespace}/pods/${pod.metadata.name}/log?container=main`);
    expect(log.body.toString()).toBe('pong\n');
    // The sidecar's own log, by container name.
    const side = await v129.get(`/api/v1/namespaces/${v129.namespace}/pods/${pod.metadata.name}/log?container=side`);
    expect(side.status).toBe(200);
    const events = (await v129.core.listNamespacedEvent({ namespace: v129.namespace, fieldSelector: `involvedObject.name=${pod.metadata.name}` })).items.map((e) => e.reason);
    expect(events).not.toContain('BackOff');
  });

  it('1.29+: an exec startup probe does the same', async () => {
    const pod = await servedPod(v129, { exec: { command: ['sh', '-c', 'busybox nc 127.0.0.1 7070 </dev/null | grep -q pong'] } });
    expect(pod.status.phase).toBe('Succeeded');
    expect((await v129.get(`/api/v1/namespaces/${v129.namespace}/pods/${pod.metadata.name}/log?container=main`)).body.toString()).toBe('pong\n');
  });

  it('a startup probe that keeps failing: Unhealthy events, the sidecar killed (to be restarted), started false, the main container never starts', async () => {
    const probe = { tcpSocket: { port: 7071 }, periodSeconds: 1, failureThreshold: 1 };
    // Killed once: its last state is the kill, before the crash back-off restarts it.
    const pod = await v129.runPod('true', (p) => p?.status?.initContainerStatuses?.[0]?.lastState?.terminated !== undefined, {
      spec: { terminationGracePeriodSeconds: 1, initContainers: [busybox('side', 'sleep 600', { restartPolicy: 'Always', startupProbe: probe })] },
    });
    expect(pod.status.initContainerStatuses[0].started).toBe(false);
    expect(stateOf(pod, 'containerStatuses', 'main')).toEqual({ waiting: { reason: 'PodInitializing' } });
    const events = (await v129.core.listNamespacedEvent({ namespace: v129.namespace, fieldSelector: `involvedObject.name=${pod.metadata.name}` })).items.map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain('Unhealthy: Startup probe failed: dial tcp :7071: connect: connection refused');
    expect(events).toContain('Killing: Container side failed startup probe, will be restarted');
    await v129.core.deleteNamespacedPod({ name: pod.metadata.name, namespace: v129.namespace, gracePeriodSeconds: 0 });
  });

  it('1.28: the dropped restartPolicy leaves a probe on an ordinary init container, and the pod is invalid (422)', async () => {
    const invalid = await statusOf(
      v128.core.createNamespacedPod({
        namespace: v128.namespace,
        body: { metadata: { name: randomName('probe') }, spec: { initContainers: [serving({ tcpSocket: { port: 7070 } }) as never], containers: [busybox('m', 'true') as never] } },
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.details.causes).toEqual([{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for init containers without restartPolicy=Always', field: 'spec.initContainers[0].startupProbe' }]);
  });

  it('validation: a probe needs exactly one handler', async () => {
    const invalid = await statusOf(
      v129.core.createNamespacedPod({
        namespace: v129.namespace,
        body: { metadata: { name: randomName('probe') }, spec: { containers: [busybox('m', 'true', { startupProbe: { periodSeconds: 1 } }) as never, busybox('n', 'true', { readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 1 } } }) as never] } },
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.details.causes.map((c: any) => `${c.field}: ${c.message}`)).toEqual([
      'spec.containers[0].startupProbe: Required value: must specify a handler type',
      'spec.containers[1].readinessProbe: Forbidden: may not specify more than 1 handler type',
    ]);
  });
});

describe('pod status fields by version', () => {
  const withMount = (c: ProfileCluster) =>
    c.runPod('true', isFinished, {
      container: { volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'conf', mountPath: '/conf', readOnly: true }] },
      spec: { volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'conf', emptyDir: {} }] },
    });

  it('PodReadyToStartContainers and hostIPs from 1.29, containerStatuses[].volumeMounts from 1.31', async () => {
    const [p128, p130, p131] = await Promise.all([withMount(v128), withMount(v130), withMount(v131)]);
    const types = (pod: KObject) => pod.status.conditions.map((cond: any) => cond.type);
    expect(types(p128)).toEqual(['Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    expect(p128.status).not.toHaveProperty('hostIPs');
    expect(types(p130)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    expect(p130.status.hostIPs).toEqual([{ ip: p130.status.hostIP }]);
    expect(p130.status.containerStatuses[0]).not.toHaveProperty('volumeMounts');
    expect(p131.status.containerStatuses[0].volumeMounts).toEqual([
      { name: 'scratch', mountPath: '/scratch' },
      { name: 'conf', mountPath: '/conf', readOnly: true, recursiveReadOnly: 'Disabled' },
    ]);
  });
});

describe('deletion', () => {
  /** The engine's kill signals for a pod's containers, in order, until `die`. */
  async function signals(c: ProfileCluster, pod: KObject): Promise<string[]> {
    const events = (await docker.getEvents({ filters: { type: ['container'], event: ['kill', 'die'], label: [`drivetrain-local-k8s/pod-uid=${pod.metadata.uid}`] } })) as NodeJS.ReadableStream & { destroy(): void };
    const seen: string[] = [];
    return new Promise((resolve) => {
      let pending = '';
      events.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        for (const line of pending.split('\n').slice(0, -1)) {
          const event = JSON.parse(line);
          if (event.Action === 'die') {
            events.destroy();
            return resolve(seen);
          }
          seen.push(event.Actor.Attributes.signal);
        }
        pending = pending.slice(pending.lastIndexOf('\n') + 1);
      });
    });
  }

  it('grace 0 is a force delete: the object is gone at once, the container still gets SIGTERM and a second', async () => {
    const pod = await v131.runPod('sleep 600', isRunning);
    const killed = signals(v131, pod);
    await v131.core.deleteNamespacedPod({ namespace: v131.namespace, name: pod.metadata.name, gracePeriodSeconds: 0 });
    expect(v131.cluster.store.get('pods', v131.namespace, pod.metadata.name)).toBeUndefined();
    expect((await statusOf(v131.core.readNamespacedPod({ namespace: v131.namespace, name: pod.metadata.name }))).code).toBe(404);
    // SIGTERM first (sh as PID 1 ignores it), SIGKILL once the second is over.
    expect(await killed).toEqual(['15', '9']);
  });

  it("a pod's own terminationGracePeriodSeconds of 0, deleted without a grace period, is a force delete too", async () => {
    const pod = await v131.runPod('sleep 600', isRunning);
    expect(pod.spec.terminationGracePeriodSeconds).toBe(0);
    const killed = signals(v131, pod);
    await v131.core.deleteNamespacedPod({ namespace: v131.namespace, name: pod.metadata.name });
    expect(v131.cluster.store.get('pods', v131.namespace, pod.metadata.name)).toBeUndefined();
    expect(await killed).toEqual(['15', '9']);
  });

  it('grace > 0 is graceful: deletionTimestamp set, the object stays until its containers stopped', async () => {
    const pod = await v131.runPod("trap 'exit 0' TERM; while true; do sleep 0.1; done", isRunning);
    const deleted = await v131.core.deleteNamespacedPod({ namespace: v131.namespace, name: pod.metadata.name, gracePeriodSeconds: 30 });
    expect(deleted.metadata).toMatchObject({ deletionGracePeriodSeconds: 30 });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    await v131.waitFor('pods', pod.metadata.name, (o) => o === undefined);
  });
});
