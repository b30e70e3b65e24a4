import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { LABELS } from '../../src/labels.js';
import type { Driver } from '../../src/types.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';
import { ROOT, runCli } from './helpers.js';

/**
 * `drivetrain cleanup --orphans --driver k8s` on the local cluster, in a Kubernetes namespace of
 * its own: no other test's driver reaps there, so what the command prints is all its own work.
 * Judged only by what shows on the cluster (pods labelled with a drivetrain namespace, owner
 * Leases and their holders) and by what the command prints, whatever Leases the driver keeps.
 */

const kubeconfig = inject('kubeconfig');
const config = new KubeConfig();
config.loadFromFile(kubeconfig);
const core = config.makeApiClient(CoreV1Api);
const coordination = config.makeApiClient(CoordinationV1Api);
const kubernetesNamespace = `orphans-${randomBytes(4).toString('hex')}`;
/** Generous: pods start slowly on a loaded machine (a deadline, not a measure). */
const BUDGET_MS = 90_000;

/** A holder identity (`host/boot/pid/start`) of this process. */
const HELD_HERE = new RegExp(`/${process.pid}/\\d+$`);

async function ownerLeases(): Promise<V1Lease[]> {
  return (await coordination.listNamespacedLease({ namespace: kubernetesNamespace, labelSelector: `${LABELS.managed}=true,${LABELS.role}=owner` })).items;
}

function expired(lease: V1Lease): boolean {
  return Date.now() > new Date(lease.spec?.renewTime ?? 0).getTime() + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
}

async function podsOf(namespace: string): Promise<number> {
  return (await core.listNamespacedPod({ namespace: kubernetesNamespace, labelSelector: `${LABELS.namespace}=${namespace}` })).items.length;
}

/**
 * Another process opens a driver of `namespace` (owner Leases of `leaseSeconds`), starts a long
 * task, and is SIGKILLed once the task runs: nothing of drivetrain's runs after, its Lease stops
 * being renewed.
 */
async function ownerKilledAfterItsTaskStarted(namespace: string, leaseSeconds: number): Promise<void> {
  const options = { kubeconfig, kubernetesNamespace, ownerLeaseSeconds: leaseSeconds };
  const owner = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/orphan-owner.ts', 'k8s', namespace, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(owner, 'exit');
  let said = '';
  owner.stdout.setEncoding('utf8').on('data', (chunk: string) => (said += chunk));
  owner.stderr.setEncoding('utf8').on('data', (chunk: string) => (said += chunk));
  try {
    await eventually(() => said.includes('running\n') || owner.exitCode !== null, BUDGET_MS, `the owner of ${namespace} to start its task`);
    expect(said).toContain('running\n');
  } finally {
    owner.kill('SIGKILL');
    await exited;
  }
}

let live: Driver;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: kubernetesNamespace } } });
  // No background reap of its own: what is reaped here is the command's doing.
  live = createK8sDriver({ namespace: testNamespace('orph-live'), kubeconfig, kubernetesNamespace, reapOrphans: false });
}, 60_000);

afterAll(async () => {
  await live.close({ signal: AbortSignal.timeout(60_000) });
  await core.deleteNamespace({ name: kubernetesNamespace });
}, 90_000);

describe('drivetrain cleanup --orphans on k8s (local cluster)', { timeout: 240_000 }, () => {
  it('removes the pods and the Lease of an owner whose Lease expired, prints that namespace, and keeps a live owner’s', async () => {
    const orphan = testNamespace('orph');
    const liveTask = await live.runContainer({ id: 'live', image: 'busybox', command: ['sleep', '300'] }, { signal: AbortSignal.timeout(BUDGET_MS) });
    try {
      await ownerKilledAfterItsTaskStarted(orphan, 2);
      expect(await podsOf(orphan)).toBe(1);
      // The killed owner's Lease (2 s) expires; this process's keeps being renewed.
      await eventually(async () => {
        const leases = await ownerLeases();
        const others = leases.filter((lease) => !HELD_HERE.test(lease.spec?.holderIdentity ?? ''));
        return others.length > 0 && others.every(expired);
      }, BUDGET_MS, `the killed owner's Lease in ${kubernetesNamespace} to expire`, 200);

      const result = await runCli(['cleanup', '--orphans', '--driver', 'k8s'], { env: { KUBECONFIG: kubeconfig, DRIVETRAIN_K8S_NAMESPACE: kubernetesNamespace }, deadlineMs: BUDGET_MS });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`reaped orphaned namespace "${orphan}"\n1 orphaned namespace(s) reaped with the k8s driver\n`);

      // The command returns once the reap is done: the orphan's pods and the Lease naming it are gone.
      expect(await podsOf(orphan)).toBe(0);
      const left = await ownerLeases();
      expect(left.map((lease) => lease.spec?.holderIdentity)).toEqual([expect.stringMatching(HELD_HERE)]);
      expect(left.every(expired)).toBe(false);
      // The live owner's task runs on, untouched.
      expect((await liveTask.status()).done).toBe(false);
      expect(await podsOf(live.namespace)).toBe(1);

      // Nothing is left to reap: a second run reaps nothing and says so.
      const again = await runCli(['cleanup', '--orphans', '--driver', 'k8s'], { env: { KUBECONFIG: kubeconfig, DRIVETRAIN_K8S_NAMESPACE: kubernetesNamespace }, deadlineMs: BUDGET_MS });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe('0 orphaned namespace(s) reaped with the k8s driver\n');
    } finally {
      // Whatever a failure left of the orphan goes with the test.
      await createK8sDriver({ namespace: orphan, kubeconfig, kubernetesNamespace, ownerRecord: false, reapOrphans: false }).close({ signal: AbortSignal.timeout(60_000) });
    }
  });
});
