import { randomBytes } from 'node:crypto';
import { runDockerLabels, testNamespace } from '../setup/test-run.js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createK8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { DrivetrainError, EngineError, InvalidInputError } from '../../src/errors.js';
import type { Driver } from '../../src/types.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import type { FaultSpec } from '../k8s-server/faults.js';

/**
 * Permanent refusals from the Kubernetes API (400, 403, 422) are surfaced at once, typed,
 * after exactly one request: retrying them would only delay the same answer. Real ones
 * (a terminating namespace, a pod spec the API server rejects) and injected ones.
 */

// A cluster of this file's own: its faults must not disturb other files.
let cluster: LocalCluster;
let core: CoreV1Api;
const drivers: Driver[] = [];
const TIMEOUT = 60_000;
/** Far below what one retry with back-off would take, far above one request. */
const AT_ONCE_MS = 5_000;

beforeAll(async () => {
  cluster = await startLocalCluster({ ...DRIVER_CLUSTER, dockerLabels: runDockerLabels() });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  core = config.makeApiClient(CoreV1Api);
});
afterEach(async () => {
  cluster.faults.clear();
  await Promise.all(drivers.splice(0).map((driver) => driver.close({ signal: AbortSignal.timeout(30_000) })));
}, 45_000);
afterAll(async () => {
  await cluster?.stop({ removeContainers: true });
});

function newDriver(options: Partial<K8sDriverOptions> = {}): Driver {
  const driver = createK8sDriver({ kubeconfig: cluster.kubeconfigPath, namespace: testNamespace('rpe'), ...options }) as Driver;
  drivers.push(driver);
  return driver;
}

/** Runs `operation`, returning its error and how long it took to fail. */
async function failure(operation: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await operation().then(
    () => new Error('expected a rejection, but the operation succeeded'),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

const task = (id: string) => ({ id, image: 'busybox', command: ['true'] });

describe('k8s driver: permanent API errors are surfaced at once and never retried', () => {
  it('403 from a terminating Kubernetes namespace: EngineError 403 after one create', async () => {
    const namespace = `held-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // A finalizer nobody removes keeps the namespace terminating for the whole case.
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'hold', finalizers: ['drivetrain.dev/test-hold'] } } });
    await core.deleteNamespace({ name: namespace });
    try {
      const driver = newDriver({ kubernetesNamespace: namespace });
      const before = cluster.metrics.count('create', 'pods');
      const { error, ms } = await failure(() => driver.runContainer(task('refused'), { signal: AbortSignal.timeout(30_000) }));
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).message).toMatch(/forbidden.*being terminated/);
      expect(ms).toBeLessThan(AT_ONCE_MS);
      expect(cluster.metrics.count('create', 'pods') - before).toBe(1);
    } finally {
      await core.patchNamespacedConfigMap({ name: 'hold', namespace, body: [{ op: 'remove', path: '/metadata/finalizers' }] }).catch(() => undefined);
    }
  }, TIMEOUT);

  it('422 for a pod spec the API server rejects: InvalidInputError naming the field, one create', async () => {
    const driver = newDriver({ podTemplate: { spec: { terminationGracePeriodSeconds: -1 } } as K8sDriverOptions['podTemplate'] });
    const before = cluster.metrics.count('create', 'pods');
    const { error, ms } = await failure(() => driver.runContainer(task('invalid'), { signal: AbortSignal.timeout(30_000) }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toContain('spec.terminationGracePeriodSeconds');
    expect(ms).toBeLessThan(AT_ONCE_MS);
    expect(cluster.metrics.count('create', 'pods') - before).toBe(1);
  }, TIMEOUT);

  const INJECTED: ReadonlyArray<{ kind: FaultSpec['kind']; type: abstract new (...args: never[]) => DrivetrainError; status?: number }> = [
    { kind: '400', type: EngineError, status: 400 },
    { kind: '403', type: EngineError, status: 403 },
    { kind: '422', type: InvalidInputError },
  ];
  const OPERATIONS: ReadonlyArray<{ name: string; method: string; resource: string; run: (driver: Driver) => Promise<unknown> }> = [
    { name: 'runContainer', method: 'POST', resource: '/pods', run: (driver) => driver.runContainer(task('injected'), { signal: AbortSignal.timeout(30_000) }) },
    { name: 'createVolume', method: 'POST', resource: '/persistentvolumeclaims', run: (driver) => driver.createVolume('injected', { signal: AbortSignal.timeout(30_000) }) },
  ];
  for (const { kind, type, status } of INJECTED) {
    for (const operation of OPERATIONS) {
      it(`injected ${kind} on ${operation.method} ${operation.resource}: ${operation.name} fails at once with ${type.name}, one request`, async () => {
        const driver = newDriver();
        cluster.faults.set({ rate: 1, kind, match: (method, path) => method === operation.method && path.endsWith(operation.resource) });
        const { error, ms } = await failure(() => operation.run(driver));
        expect(error).toBeInstanceOf(type);
        if (status !== undefined) expect((error as EngineError).statusCode).toBe(status);
        expect(ms).toBeLessThan(AT_ONCE_MS);
        expect(cluster.faults.injected).toBe(1);
      }, TIMEOUT);
    }
  }
});
