import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPod, containerState, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster();
});
afterAll(async () => {
  await t?.stop();
});

describe('server restart', () => {
  it('a pod running across a restart is re-adopted and its completion is still reported', async () => {
    const name = randomName('survivor');
    const marker = randomName('go');
    // The pod finishes only when told to through exec, so its exit certainly happens after the restart.
    await t.apply(busyboxPod(name, `while [ ! -f /tmp/${marker} ]; do sleep 0.1; done; echo finished; exit 4`));
    const running = await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
    const containerID = running!.status.containerStatuses[0].containerID;
    await t.cluster.restart();
    const adopted = t.cluster.store.get('pods', t.namespace, name);
    expect(adopted!.status.phase).toBe('Running');
    const touched = await t.kubectl(['exec', name, '--', 'touch', `/tmp/${marker}`]);
    expect(touched.code).toBe(0);
    const done = await t.waitFor('pods', name, isFinished);
    expect(done!.status.phase).toBe('Failed');
    expect(containerState(done).terminated).toMatchObject({ exitCode: 4, reason: 'Error', containerID });
    expect((await t.kubectl(['logs', name])).stdout).toBe('finished\n');
  });

  it('a pod that exits while the server is down gets its final status after the restart', async () => {
    const name = randomName('offline');
    const marker = randomName('go');
    await t.apply(busyboxPod(name, `while [ ! -f /tmp/${marker} ]; do sleep 0.05; done; exit 0`));
    await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
    const containerID: string = t.cluster.store.get('pods', t.namespace, name)!.status.containerStatuses[0].containerID;
    const restarting = t.cluster.restart();
    // Finish the process directly on the engine while the node part is stopped or starting.
    const Dockerode = (await import('dockerode')).default;
    const exec = await new Dockerode().getContainer(containerID.replace('docker://', '')).exec({ Cmd: ['touch', `/tmp/${marker}`] });
    await exec.start({});
    await restarting;
    const done = await t.waitFor('pods', name, isFinished);
    expect(done!.status.phase).toBe('Succeeded');
    expect(containerState(done).terminated.exitCode).toBe(0);
  });
});
