import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { ownerLeaseName } from '../../drivers/k8s/owner-lease.js';
import { createDriver } from '../../src/index.js';
import type { Driver } from '../../src/types.js';
import { runCli } from '../cli/helpers.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';
import { LABELS } from '../../src/labels.js';
import { ALL_DRIVERS, docker, K8S, openDriver, type DriverUnderTest } from './drivers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Options of the killed owner and of the drivers that reap it: a short lease where one is judged by its age. */
function ownerOptions(under: DriverUnderTest): Record<string, unknown> {
  return under.name === 'k8s' ? { kubeconfig: inject('kubeconfig'), ownerLeaseSeconds: 2 } : { ownerLeaseSeconds: 2 };
}

/**
 * Starts a process owning `namespace` with a running task and SIGKILLs it once the task runs
 * (and a live neighbour, opened meanwhile, left it alone). `extra`: more options of its driver.
 */
async function killedOwner(under: DriverUnderTest, namespace: string, extra: Record<string, unknown> = {}): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/orphan-owner.ts', under.name, namespace, JSON.stringify({ ...ownerOptions(under), ...extra })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await eventually(() => output.includes('running\n') || child.exitCode !== null, under.budgetMs, 'the owner to start its task');
    expect(output).toContain('running\n');
    // While its owner lives, no driver reaps the namespace (the owner's own open reaped others).
    expect(await under.countTasks(namespace)).toBe(1);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Whether the owner Lease of `namespace` is there and expired (renewTime + leaseDurationSeconds past). */
async function leaseExpired(namespace: string): Promise<boolean> {
  const config = new KubeConfig();
  config.loadFromFile(inject('kubeconfig'));
  const lease = await config.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'default', name: ownerLeaseName(namespace) });
  const renewed = new Date(lease.spec?.renewTime ?? 0).getTime();
  return Date.now() > renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
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
    await killedOwner(under, orphan);

    // On Kubernetes the namespace is an orphan once its Lease expired: wait until it has (a 2 s lease).
    if (under.name === 'k8s') await eventually(() => leaseExpired(orphan), under.budgetMs, `the Lease of ${orphan} to expire`, 200);
    const reaper = await createDriver(under.name, { ...ownerOptions(under), namespace: testNamespace('orph-reaper') });
    try {
      await eventually(async () => (await under.countTasks(orphan)) === 0, under.budgetMs, `the orphaned namespace ${orphan} to be reaped`, 200);
    } finally {
      await reaper.close({ signal: AbortSignal.timeout(60_000) });
    }
    expect(await live.running()).toBe(true);
    expect(await under.countTasks(live.driver.namespace)).toBe(1);
    if (under.name === 'k8s') {
      // Its Lease went with it; the live namespace keeps its own.
      const config = new KubeConfig();
      config.loadFromFile(inject('kubeconfig'));
      const leases = config.makeApiClient(CoordinationV1Api);
      // The reap deletes the Lease last, after the pods.
      await eventually(() => leases.readNamespacedLease({ namespace: 'default', name: ownerLeaseName(orphan) }).then(() => false, (error: { code?: number }) => error.code === 404), under.budgetMs, `the Lease of ${orphan} to be deleted`, 200);
      expect((await leases.readNamespacedLease({ namespace: 'default', name: ownerLeaseName(live.driver.namespace) })).spec?.holderIdentity).toMatch(/\/\d+\/\d+$/);
    }
    if (under.name === 'docker') {
      // Its owner record (a heartbeat volume) went with it.
      const volumes = await docker.listVolumes({ filters: { label: [`${LABELS.namespace}=${orphan}`] } });
      expect(volumes.Volumes ?? []).toEqual([]);
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
  it('getContainer takes the Lease over, and a reaper leaves the namespace alone', async () => {
    const namespace = testNamespace('orph-back');
    await killedOwner(K8S, namespace, { ownerLeaseSeconds: 30 });
    const config = new KubeConfig();
    config.loadFromFile(inject('kubeconfig'));
    const leases = config.makeApiClient(CoordinationV1Api);
    const before = await leases.readNamespacedLease({ namespace: 'default', name: ownerLeaseName(namespace) });
    const fresh = openDriver(K8S, namespace);
    const container = await fresh.getContainer('orphan', { signal: AbortSignal.timeout(K8S.budgetMs) });
    const after = await leases.readNamespacedLease({ namespace: 'default', name: ownerLeaseName(namespace) });
    expect(after.spec?.holderIdentity).not.toBe(before.spec?.holderIdentity);
    expect(after.spec?.holderIdentity).toMatch(new RegExp(`/${process.pid}/\\d+$`));
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
    const reaper = await createDriver('k8s', { kubeconfig: inject('kubeconfig'), namespace: testNamespace('orph-reaper'), reapOrphans: false });
    try {
      expect(await reaper.reapOrphans?.({ signal: AbortSignal.timeout(K8S.budgetMs) })).not.toContain(namespace);
    } finally {
      await reaper.close({ signal: AbortSignal.timeout(60_000) });
    }
    expect((await container.status()).done).toBe(false);
  }, 180_000);
});
