import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPod, containerState, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

/** What the kubelet does with a pod's security context at run time: runAsNonRoot, fsGroup. */

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster();
});
afterAll(async () => {
  await t?.stop();
});

describe('security context at run time', () => {
  it('runAsNonRoot: an image that runs as root waits with CreateContainerConfigError; runAsUser 1000 runs', async () => {
    const root = randomName('nonroot');
    await t.apply(busyboxPod(root, 'true', { spec: { securityContext: { runAsNonRoot: true } } }));
    const waiting = await t.waitFor('pods', root, (o) => containerState(o)?.waiting?.reason === 'CreateContainerConfigError');
    expect(containerState(waiting).waiting.message).toBe(`container has runAsNonRoot and image will run as root (pod: "${root}_${t.namespace}(${waiting!.metadata.uid})", container: main)`);
    const user = randomName('user');
    await t.apply(busyboxPod(user, 'id -u', { spec: { securityContext: { runAsNonRoot: true, runAsUser: 1000 } } }));
    const done = await t.waitFor('pods', user, isFinished);
    expect(done?.status.phase).toBe('Succeeded');
  });

  it('fsGroup: a non-root process can write its volume, and has the group as a supplementary one', async () => {
    const claim = randomName('data');
    await t.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } });
    const name = randomName('fsgroup');
    await t.apply(
      busyboxPod(name, 'id -G; touch /data/f && stat -c %g /data/f', {
        spec: { securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 }, volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] },
        container: { volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      }),
    );
    const done = await t.waitFor('pods', name, isFinished);
    const logs = await t.kubectl(['logs', name]);
    expect({ phase: done?.status.phase, logs: logs.stdout }).toEqual({ phase: 'Succeeded', logs: '1000 2000\n2000\n' });
  });
});
