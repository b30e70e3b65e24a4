import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DriverClosedError } from '../../src/errors.js';
import { testNamespace } from '../setup/test-run.js';
import { ownCluster } from './own-cluster.js';
import { leaseExpired, leasesNaming } from '../support/owner-leases.js';
import { eventually } from '../support/poll.js';
import { killOnceItSays } from '../support/killed-child.js';
import { leaseNamespaces } from '../../drivers/k8s/owner-lease.js';
import { taskObjectName } from '../../drivers/k8s/naming.js';

// A cluster of its own: no other file's reaper (`--unowned` ones included) meets what detach leaves.
const { cluster, core, batch, k8sNamespace, newDriver } = await ownCluster('k8dt');
const TIMEOUT = 120_000;

/** The names of the namespace's Jobs, pods, claims and pull secrets that exist, as `Kind/name`. */
async function present(namespace: string): Promise<string[]> {
  const labelSelector = `drivetrain.dev/namespace=${namespace}`;
  const [jobs, pods, claims, secrets] = await Promise.all([
    batch.listNamespacedJob({ namespace: k8sNamespace, labelSelector }),
    core.listNamespacedPod({ namespace: k8sNamespace, labelSelector }),
    core.listNamespacedPersistentVolumeClaim({ namespace: k8sNamespace, labelSelector }),
    core.listNamespacedSecret({ namespace: k8sNamespace, labelSelector }),
  ]);
  const names = (kind: string, items: Array<{ metadata?: { name?: string; deletionTimestamp?: unknown } }>) => items.filter((item) => item.metadata?.deletionTimestamp == null).map((item) => `${kind}/${item.metadata?.name}`);
  return [...names('Job', jobs.items), ...names('Pod', pods.items), ...names('PersistentVolumeClaim', claims.items), ...names('Secret', secrets.items)].sort();
}

describe('k8s driver: detach', () => {
  it('leaves the Jobs to their TTL and the namespace to no owner Lease, at once, so a reaper leaves them too', async () => {
    // Another driver of this process keeps the process's Lease alive (and renewed) after the detach.
    const keeper = newDriver();
    await keeper.createVolume('kept');
    const driver = newDriver({ mode: 'job', ttlSecondsAfterFinished: 600 });
    const container = await driver.runContainer({ id: 'attempt-1', image: 'busybox', command: ['true'] });
    expect((await container.wait()).exitCode).toBe(0);
    expect(await leasesNaming(cluster.kubeconfigPath, k8sNamespace, driver.namespace)).toHaveLength(1);

    const result = await driver.detach();
    const job = driver.taskObjectName('attempt-1');
    expect(result.left).toEqual([
      { kind: 'Job', name: job, removedByKubernetes: true },
      { kind: 'Pod', name: container.podName, removedByKubernetes: true },
    ]);
    expect(await present(driver.namespace)).toEqual([`Job/${job}`, `Pod/${container.podName}`]);
    // The Lease the keeper keeps names the detached namespace no more: written at once, not at its next renewal.
    expect(await leasesNaming(cluster.kubeconfigPath, k8sNamespace, driver.namespace)).toEqual([]);
    expect(await leasesNaming(cluster.kubeconfigPath, k8sNamespace, keeper.namespace)).toHaveLength(1);

    // Ended as a close ends it; a close or detach afterwards removes nothing.
    await expect(driver.runContainer({ id: 'attempt-2', image: 'busybox', command: ['true'] })).rejects.toBeInstanceOf(DriverClosedError);
    await driver.close();
    expect(await driver.detach()).toEqual(result);
    // A reaper does not take it for an orphan.
    expect(await newDriver().reapOrphans()).toEqual([]);
    expect(await present(driver.namespace)).toEqual([`Job/${job}`, `Pod/${container.podName}`]);
    // A driver of the namespace removes it on close, as ever.
    await newDriver({ namespace: driver.namespace, mode: 'job' }).close();
    expect(await present(driver.namespace)).toEqual([]);
  }, TIMEOUT);

  it('what it left is never reaped, also once its process is gone and the Lease it shared expired', async () => {
    const keeper = testNamespace('k8dt-keeper');
    const detached = testNamespace('k8dt-left');
    const { output } = await killOnceItSays('test/k8s/detach-owner.ts', [cluster.kubeconfigPath, keeper, detached], 'detached', { timeoutMs: 90_000 });
    expect(output).toBe('detached\n');
    const job = `Job/${taskObjectName(detached, 'attempt')}`;
    expect(await present(detached)).toContain(job);
    // The killed process's Lease (2 s) names its keeper's namespace only; once it expired, a reaper takes that one, never the detached.
    const naming = await leasesNaming(cluster.kubeconfigPath, k8sNamespace, keeper);
    expect(naming).toHaveLength(1);
    expect(leaseNamespaces(naming[0] as V1Lease)).toEqual([keeper]);
    await eventually(async () => (await leasesNaming(cluster.kubeconfigPath, k8sNamespace, keeper)).every(leaseExpired), 30_000, 'the killed owner\'s Lease to expire', 200);
    expect(await newDriver().reapOrphans()).toEqual([keeper]);
    expect(await present(keeper)).toEqual([]);
    expect(await present(detached)).toContain(job);
    await newDriver({ namespace: detached, mode: 'job' }).close();
  }, TIMEOUT);

  it('names, returns and logs what nothing will remove, and deletes none of it', async () => {
    const warnings: unknown[][] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (...args: unknown[]) => warnings.push(args) };
    const driver = newDriver({ logger });
    const container = await driver.runContainer({ id: 'task', image: 'busybox', command: ['sleep', '30'], mounts: [{ volume: 'cache', path: '/cache' }] });
    await driver.createPullSecret('regcred', { registry: 'registry.example:5000', username: 'u', password: 'p' });

    const result = await driver.detach();
    const claim = driver.volumeClaimName('cache');
    expect(result.left).toEqual([
      { kind: 'Pod', name: driver.taskObjectName('task'), removedByKubernetes: false },
      { kind: 'PersistentVolumeClaim', name: claim, removedByKubernetes: false },
      { kind: 'Secret', name: 'regcred', removedByKubernetes: false },
    ]);
    expect(await present(driver.namespace)).toEqual([`PersistentVolumeClaim/${claim}`, `Pod/${container.podName}`, 'Secret/regcred']);
    expect(warnings).toEqual([[expect.objectContaining({ namespace: driver.namespace, left: result.left }), expect.stringContaining(`leaving 3 object(s) nothing will remove: Pod ${container.podName}, PersistentVolumeClaim ${claim}, Secret regcred`)]]);
    await newDriver({ namespace: driver.namespace }).close();
    expect(await present(driver.namespace)).toEqual([]);
  }, TIMEOUT);

  it('after a close, leaves nothing: the first of close and detach decides', async () => {
    const driver = newDriver();
    await driver.createVolume('gone');
    await driver.close();
    expect(await driver.detach()).toEqual({ left: [] });
    expect(await present(driver.namespace)).toEqual([]);
  }, TIMEOUT);
});
