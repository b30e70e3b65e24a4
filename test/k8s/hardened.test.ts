import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pack } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import { readTar } from '../conformance/helpers.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

// A cluster whose only node is a dedicated, tainted pool: nothing lands there without the toleration.
const cluster = await useLocalCluster({ ...DRIVER_CLUSTER, node: { labels: { pool: 'ci' }, taints: [{ key: 'dedicated', value: 'ci', effect: 'NoSchedule' }] } });
const kc = new KubeConfig();
kc.loadFromFile(cluster.kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);

const pool: Partial<K8sDriverOptions> = { nodeSelector: { pool: 'ci' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }] };
const drivers: K8sDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

function newDriver(options: Partial<K8sDriverOptions>): K8sDriver {
  // A start that cannot happen (an untolerated taint) fails in seconds, not minutes.
  const driver = createK8sDriver({ kubeconfig: cluster.kubeconfigPath, namespace: testNamespace('k8h'), startTimeoutMs: 30_000, ...options }) as K8sDriver;
  drivers.push(driver);
  return driver;
}

function archive(files: Record<string, string>): Readable {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  return Readable.from(tar as unknown as AsyncIterable<Buffer>);
}

/** Copies in, runs a task on the volume, reads back, and runs a sandbox exec with input. */
async function workOnVolume(driver: K8sDriver, user?: string): Promise<void> {
  await driver.copyToVolume('work', archive({ 'in.txt': 'input\n' }));
  const task = await driver.runContainer({ id: 'writer', image: 'busybox', command: ['sh', '-c', 'cat v/in.txt > v/out.txt && id -u'], mounts: [{ volume: 'work', path: 'v' }], ...(user === undefined ? {} : { user }) });
  expect(await task.wait()).toMatchObject({ done: true, exitCode: 0 });
  expect((await readLogs(task)).stdout).toBe(`${user?.split(':')[0] ?? '0'}\n`);
  const entries = await readTar(await driver.readFilesFromVolume('work', ['out.txt']));
  expect(entries.get('out.txt')?.content.toString()).toBe('input\n');
  const sandbox = await driver.startSandbox({ id: 'tools', image: 'busybox', ...(user === undefined ? {} : { user }) });
  const stdout = new CollectingWritable();
  expect(await sandbox.exec(['cat'], { stdin: 'to the sandbox', stdout })).toMatchObject({ exitCode: 0 });
  expect(stdout.text()).toBe('to the sandbox');
}

describe('hardened clusters', () => {
  it('on a tainted, dedicated pool, volume helpers and sandboxes go where tasks go', async () => {
    await workOnVolume(newDriver(pool));
  }, 180_000);

  it('under Pod Security "restricted" and a cpu/memory quota, every pod is admitted and works', async () => {
    const namespace = `hardened-${randomBytes(4).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
    try {
      await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'compute' }, spec: { hard: { pods: '10', cpu: '4', memory: '2Gi' } } } });
      const driver = newDriver({
        ...pool,
        kubernetesNamespace: namespace,
        securityProfile: 'restricted',
        defaultResources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      });
      // A non-root task writes a volume the root-free helper filled: fsGroup hands it to the task's group.
      await workOnVolume(driver, '1000:3000');
    } finally {
      await core.deleteNamespace({ name: namespace });
    }
  }, 180_000);

  it('a non-root task can write its fresh volume (fsGroup from its user)', async () => {
    const driver = newDriver(pool);
    const task = await driver.runContainer({ id: 'nonroot', image: 'busybox', command: ['sh', '-c', 'echo mine > v/file && stat -c %g v/file'], mounts: [{ volume: 'fresh', path: 'v' }], user: '1000' });
    expect(await task.wait()).toMatchObject({ done: true, exitCode: 0 });
    expect((await readLogs(task)).stdout).toBe('1000\n');
  }, 120_000);
});
