import { describe, expect, inject, it } from 'vitest';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { createDriver } from '../../src/index.js';
import type { Driver } from '../../src/types.js';
import { runCli } from '../cli/helpers.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';
import { killOnceItSays } from '../support/killed-child.js';
import { leaseExpired, leasesNaming } from '../support/owner-leases.js';
import { LABELS } from '../../src/labels.js';
import { ALL_DRIVERS, docker, K8S, openDriver, type DriverUnderTest } from './drivers.js';

/** Options of the killed owner and of the drivers that reap it: a short lease where one is judged by its age. */
function ownerOptions(under: DriverUnderTest): Record<string, unknown> {
  return under.name === 'k8s' ? { kubeconfig: inject('kubeconfig'), ownerLeaseSeconds: 2 } : { ownerLeaseSeconds: 2 };
}

/**
 * Starts a process owning `namespace` with a running task and SIGKILLs it once the task runs
 * (and a live neighbour, opened meanwhile, left it alone). `extra`: more options of its driver.
 */
async function killedOwner(under: DriverUnderTest, namespace: string, extra: Record<string, unknown> = {}): Promise<number> {
  const options = JSON.stringify({ ...ownerOptions(under), ...extra });
  const { pid } = await killOnceItSays('test/reliability/orphan-owner.ts', [under.name, namespace, options], 'running', {
    timeoutMs: under.budgetMs,
    // While its owner lives, no driver reaps the namespace (the owner's own open reaped others).
    whileRunning: async () => expect(await under.countTasks(namespace)).toBe(1),
  });
  return pid;
}

/** The owner Leases of the local cluster's `default` namespace that name `namespace`. */
function leasesOf(namespace: string): ReturnType<typeof leasesNaming> {
  return leasesNaming(inject('kubeconfig'), 'default', namespace);
}

/** A Lease held by this process (its holder ends with this pid and its start time). */
const HELD_HERE = new RegExp(`/${process.pid}/\\d+$`);

function leaseApi(): CoordinationV1Api {
  const config = new KubeConfig();
  config.loadFromFile(inject('kubeconfig'));
  return config.makeApiClient(CoordinationV1Api);
}

/** A live namespace beside the orphan: a driver of this process with a running task. */
async function liveNeighbour(under: DriverUnderTest): Promise<{ driver: Driver; running: () => Promise<boolean> }> {
  const driver = openDriver(under, testNamespace('orph-live'));
  const container = await driver.runContainer({ id: 'live', image: 'busybox', command: ['sleep', '120'] }, { signal: AbortSignal.timeout(under.budgetMs) });
  return { driver, running: async () => !(await container.status()).done };
}

describe.each(ALL_DRIVERS)('no orphans on $name', (under) => {
  it('a driver opened after its owner was SIGKILLed reaps the namespace, never a live one beside it', async () => {
    const orphan = testNamespace('orph');
    const live = await liveNeighbour(under);
    const killedPid = await killedOwner(under, orphan);

    // On Kubernetes the namespace is an orphan once the Lease naming it (its killed owner's) expired (a 2 s lease).
    if (under.name === 'k8s') await eventually(async () => (await leasesOf(orphan)).every(leaseExpired), under.budgetMs, `the Lease naming ${orphan} to expire`, 200);
    const reaper = await createDriver(under.name, { ...ownerOptions(under), namespace: testNamespace('orph-reaper') });
    try {
      await eventually(async () => (await under.countTasks(orphan)) === 0, under.budgetMs, `the orphaned namespace ${orphan} to be reaped`, 200);
    } finally {
      await reaper.close({ signal: AbortSignal.timeout(60_000) });
    }
    expect(await live.running()).toBe(true);
    expect(await under.countTasks(live.driver.namespace)).toBe(1);
    if (under.name === 'k8s') {
      // The Lease naming it went with it (the reap deletes it last, after the pods); this process's Lease still names the live namespace.
      await eventually(async () => (await leasesOf(orphan)).length === 0, under.budgetMs, `the Lease naming ${orphan} to be deleted`, 200);
      expect((await leasesOf(live.driver.namespace)).map((lease) => lease.spec?.holderIdentity)).toEqual([expect.stringMatching(HELD_HERE)]);
    }
    if (under.name === 'docker') {
      // Its owner record (a heartbeat volume) went with it.
      const volumes = await docker.listVolumes({ filters: { label: [`${LABELS.namespace}=${orphan}`] } });
      expect(volumes.Volumes ?? []).toEqual([]);
      // And so did its process's heartbeat, which no namespace's mark names any more.
      // (The reap removes it last, after the namespace.)
      const killedHeartbeats = async () => ((await docker.listVolumes({ filters: { label: [`${LABELS.role}=owner-heartbeat`] } })).Volumes ?? []).filter((volume) => volume.Labels?.[LABELS.owner]?.includes(`/${killedPid}/`));
      await eventually(async () => (await killedHeartbeats()).length === 0, under.budgetMs, `the heartbeat of the killed owner ${killedPid} to be removed`, 200);
    }
  }, 180_000);
});

describe.each(ALL_DRIVERS.filter((under) => under.name !== 'k8s'))('drivetrain cleanup --orphans on $name', (under) => {
  it('removes what a killed owner left and leaves a live namespace alone', async () => {
    const orphan = testNamespace('orph');
    const live = await liveNeighbour(under);
    await killedOwner(under, orphan);
    const result = await runCli(['cleanup', '--orphans', '--driver', under.name]);
    expect(result.code, result.stderr).toBe(0);
    // Another driver opened meanwhile (any test's) may have reaped it first; either way it is gone.
    expect(await under.countTasks(orphan)).toBe(0);
    expect(await live.running()).toBe(true);
  }, 180_000);
});

describe('a fresh process reattaching within the Lease’s grace (k8s)', () => {
  it('getContainer names the namespace in this process’s Lease, and a reaper in another process leaves it alone once the old Lease expired', async () => {
    const namespace = testNamespace('orph-back');
    await killedOwner(K8S, namespace, { ownerLeaseSeconds: 8 });
    const [old] = await leasesOf(namespace);
    expect(old?.spec?.holderIdentity).not.toMatch(HELD_HERE);
    const fresh = openDriver(K8S, namespace);
    const container = await fresh.getContainer('orphan', { signal: AbortSignal.timeout(K8S.budgetMs) });
    expect((await leasesOf(namespace)).map((lease) => lease.spec?.holderIdentity)).toContainEqual(expect.stringMatching(HELD_HERE));
    await eventually(async () => (await leasesOf(namespace)).filter((lease) => !HELD_HERE.test(lease.spec?.holderIdentity ?? '')).every(leaseExpired), K8S.budgetMs, `the killed owner's Lease naming ${namespace} to expire`, 200);
    const result = await runCli(['cleanup', '--orphans', '--driver', 'k8s'], { env: { KUBECONFIG: inject('kubeconfig') } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(`"${namespace}"`);
    expect((await container.status()).done).toBe(false);
    // The killed owner's Lease, expired, was taken over and deleted (its namespace is held here); ours names it still.
    expect((await leasesOf(namespace)).map((lease) => lease.spec?.holderIdentity)).toEqual([expect.stringMatching(HELD_HERE)]);
  }, 180_000);
});

describe('one owner Lease per process (k8s)', () => {
  it('two drivers of one process are named by one Lease, which stays until the second closes', async () => {
    // A lease duration no other driver of this process uses: the pair's Lease is theirs alone, whatever else runs here.
    const pair = (): Promise<Driver> => createDriver('k8s', { kubeconfig: inject('kubeconfig'), namespace: testNamespace('orph-pair'), ownerLeaseSeconds: 47 });
    const [first, second] = await Promise.all([pair(), pair()]);
    try {
      for (const driver of [first, second]) await (await driver.runContainer({ id: 'pair', image: 'busybox', command: ['true'] }, { signal: AbortSignal.timeout(K8S.budgetMs) })).wait({ signal: AbortSignal.timeout(K8S.budgetMs) });
      const [ofFirst, ofSecond] = await Promise.all([leasesOf(first.namespace), leasesOf(second.namespace)]);
      expect(ofFirst).toHaveLength(1);
      expect(ofSecond.map((lease) => lease.metadata?.name)).toEqual([ofFirst[0]?.metadata?.name]);
      expect(ofFirst[0]?.spec?.holderIdentity).toMatch(HELD_HERE);
      const name = ofFirst[0]?.metadata?.name as string;

      await first.close({ signal: AbortSignal.timeout(60_000) });
      expect(await leasesOf(second.namespace)).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name }) })]);
      await second.close({ signal: AbortSignal.timeout(60_000) });
      const gone = await leaseApi().readNamespacedLease({ namespace: 'default', name }).then(() => false, (error: { code?: number }) => error.code === 404);
      expect(gone).toBe(true);
    } finally {
      await Promise.all([first, second].map((driver) => driver.close({ signal: AbortSignal.timeout(60_000) })));
    }
  }, 180_000);
});
