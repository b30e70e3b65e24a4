import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createK8sDriver, doctor, type DoctorReport, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import { readTar } from '../conformance/helpers.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';
import { tarOf } from '../support/tar.js';

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

/** Copies in, runs a task on the volume, reads back, and runs a sandbox exec with input. */
async function workOnVolume(driver: K8sDriver, user?: string): Promise<void> {
  await driver.copyToVolume('work', tarOf([{ name: 'in.txt', content: 'input\n' }]));
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

  it('doctor names what a hardened namespace refuses and what to set, and passes once it is set', async () => {
    const namespace = `hardened-${randomBytes(4).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
    const line = (report: DoctorReport, name: string) => report.checks.find((check) => check.name === name);
    try {
      const plain = await doctor({ kubeconfig: cluster.kubeconfigPath, kubernetesNamespace: namespace }, { probeTimeoutMs: 3000 });
      expect(plain.ok).toBe(false);
      expect(line(plain, 'pod security')).toMatchObject({ ok: false, detail: expect.stringMatching(/^namespace "hardened-[0-9a-f]+" enforces Pod Security "restricted"; a task pod is refused: .*violates PodSecurity.*; set securityProfile: 'restricted'/) });
      expect(line(plain, 'exec protocol')).toMatchObject({ ok: null, detail: "not checked: the driver's pods are refused (see pod security)" });
      expect(line(plain, 'storage class')).toMatchObject({ ok: true, detail: expect.stringMatching(/^default "standard"/) });

      await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'compute' }, spec: { hard: { cpu: '4', memory: '2Gi' } } } });
      const noResources = await doctor({ kubeconfig: cluster.kubeconfigPath, kubernetesNamespace: namespace, securityProfile: 'restricted', ...pool }, { probeTimeoutMs: 3000 });
      expect(line(noResources, 'pod security')).toMatchObject({ ok: false, detail: expect.stringMatching(/a task pod is refused: .*must specify.*; set defaultResources/) });

      // Admitted, but the node's taint is not tolerated: the probe sandbox never schedules, and the line says where to look.
      const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } };
      const untolerated = await doctor({ kubeconfig: cluster.kubeconfigPath, kubernetesNamespace: namespace, securityProfile: 'restricted', defaultResources: resources }, { probeTimeoutMs: 3000 });
      expect(line(untolerated, 'pod security')).toMatchObject({ ok: true });
      expect(line(untolerated, 'exec protocol')).toMatchObject({ ok: false, detail: expect.stringContaining('within 3000 ms; check that the image can be pulled (helperImage, DRIVETRAIN_K8S_HELPER_IMAGE) and the scheduling options (nodeSelector, tolerations)') });

      const hardened = await doctor({
        kubeconfig: cluster.kubeconfigPath,
        kubernetesNamespace: namespace,
        securityProfile: 'restricted',
        defaultResources: resources,
        storageClassName: 'wait-for-first-consumer',
        ...pool,
      });
      expect(hardened.checks.filter((check) => check.ok !== true)).toEqual([]);
      expect(line(hardened, 'pod security')?.detail).toContain('task and volume helper pods are admitted (dry run)');
      expect(line(hardened, 'storage class')?.detail).toMatch(/^"wait-for-first-consumer" \(provisioner .*, volumeBindingMode WaitForFirstConsumer: a claim binds where its first pod is scheduled/);
      expect(line(hardened, 'exec protocol')?.detail).toMatch(/^v5\.channel\.k8s\.io/);

      const missingClass = await doctor({ kubeconfig: cluster.kubeconfigPath, kubernetesNamespace: namespace, storageClassName: 'no-such-class' }, { probeTimeoutMs: 1000 });
      expect(line(missingClass, 'storage class')).toMatchObject({ ok: false, detail: expect.stringContaining('StorageClass "no-such-class" (options.storageClassName) does not exist') });
    } finally {
      await core.deleteNamespace({ name: namespace });
    }
  }, 180_000);
});
