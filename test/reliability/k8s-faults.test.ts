import { randomBytes } from 'node:crypto';
import { runDockerLabels, testNamespace } from '../setup/test-run.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { DrivetrainError } from '../../src/errors.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { sh } from './drivers.js';

// A cluster of this file's own: its faults and restarts must not disturb other files.
let cluster: LocalCluster;
const drivers: Driver[] = [];
const TIMEOUT = 120_000;

beforeAll(async () => {
  cluster = await startLocalCluster({ ...DRIVER_CLUSTER, dockerLabels: runDockerLabels() });
});
afterEach(async () => {
  cluster.faults.clear();
  await Promise.all(drivers.splice(0).map((driver) => driver.close({ signal: AbortSignal.timeout(60_000) })));
}, 90_000);
afterAll(async () => {
  await cluster?.stop({ removeContainers: true });
});

function newDriver(options: { kubernetesNamespace?: string } = {}): Driver {
  const driver = createK8sDriver({ kubeconfig: cluster.kubeconfigPath, namespace: testNamespace('rkf'), ...options }) as Driver;
  drivers.push(driver);
  return driver;
}

/** Pods of the drivetrain namespace in `default`, read from the server's own store through the API. */
async function podNames(namespace: string): Promise<string[]> {
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: `drivetrain.dev/namespace=${namespace}` });
  return pods.items.map((pod) => pod.metadata?.name ?? '');
}

describe('k8s driver under injected faults (own local cluster)', () => {
  it('a share of dropped connections on every request: run, wait and logs still succeed', async () => {
    const driver = newDriver();
    cluster.faults.set({ rate: 0.25, kind: 'drop' });
    const container = await driver.runContainer({ id: 'dropped', image: 'busybox', command: sh('echo one; echo two; exit 5') }, { signal: AbortSignal.timeout(90_000) });
    expect(await container.wait({ signal: AbortSignal.timeout(90_000) })).toMatchObject({ done: true, exitCode: 5 });
    // Plain (non-follow) log reads are retried through dropped connections, output not repeated.
    for (let read = 0; read < 4; read++) expect((await readLogs(container, { signal: AbortSignal.timeout(60_000) })).stdout).toBe('one\ntwo\n');
    cluster.faults.clear();
    expect(await podNames(driver.namespace)).toHaveLength(1);
  }, TIMEOUT);

  it('429 with Retry-After on a share of requests: honoured, bounded, and the task runs once', async () => {
    const driver = newDriver();
    cluster.faults.set({ rate: 0.3, kind: '429', retryAfterSeconds: 1 });
    const started = Date.now();
    const container = await driver.runContainer({ id: 'throttled', image: 'busybox', command: sh('echo throttled') }, { signal: AbortSignal.timeout(90_000) });
    expect(await container.wait({ signal: AbortSignal.timeout(90_000) })).toMatchObject({ done: true, exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(90_000);
    // Plain log reads honour the 429s too.
    for (let read = 0; read < 4; read++) expect((await readLogs(container, { signal: AbortSignal.timeout(60_000) })).stdout).toBe('throttled\n');
    cluster.faults.clear();
    expect(await podNames(driver.namespace)).toHaveLength(1);
  }, TIMEOUT);

  it('a permanent error (404: Kubernetes namespace missing) is surfaced at once, typed, and never retried', async () => {
    const driver = newDriver({ kubernetesNamespace: `missing-${randomBytes(3).toString('hex')}` });
    const before = cluster.metrics.count('create', 'pods');
    const started = Date.now();
    const error = await driver.runContainer({ id: 'nowhere', image: 'busybox', command: ['true'] }, { signal: AbortSignal.timeout(30_000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrivetrainError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cluster.metrics.count('create', 'pods') - before).toBe(1);
  }, TIMEOUT);

  it('an API server restart while tasks run and wait() is open: every completion seen, no duplicate pod', async () => {
    const driver = newDriver();
    const signal = AbortSignal.timeout(100_000);
    const ids = [0, 1, 2, 3];
    const containers = await Promise.all(ids.map((i) => driver.runContainer({ id: `restart-${i}`, image: 'busybox', command: sh(`sleep ${1 + i * 0.5}; echo done ${i}; exit ${i + 1}`) }, { signal })));
    const waits = containers.map((c) => c.wait({ signal }));
    await cluster.restart();
    const statuses = await Promise.all(waits);
    statuses.forEach((status, i) => expect(status).toMatchObject({ done: true, exitCode: i + 1 }));
    for (const [i, container] of containers.entries()) {
      expect(await container.status({ signal })).toMatchObject({ done: true, exitCode: i + 1 });
      expect((await readLogs(container, { signal })).stdout).toBe(`done ${i}\n`);
    }
    expect(await podNames(driver.namespace)).toHaveLength(ids.length);
  }, TIMEOUT);

  it('a follow whose log requests are dropped half the time mid-way loses and repeats no line', async () => {
    const driver = newDriver();
    const signal = AbortSignal.timeout(100_000);
    const container = await driver.runContainer({ id: 'cut-follow', image: 'busybox', command: sh('i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); sleep 0.1; done') }, { signal });
    const stdout = new CollectingWritable();
    const following = container.logs({ stdout, follow: true, signal });
    const deadline = Date.now() + 30_000;
    while (!stdout.text().includes('line 5') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    // Reconnects now fail half the time, and the open stream is cut by a restart.
    cluster.faults.set({ rate: 0.5, kind: 'drop', match: (_method, path) => path.endsWith('/log') });
    await cluster.restart();
    await following;
    expect(stdout.text()).toBe(Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join(''));
  }, TIMEOUT);
});
