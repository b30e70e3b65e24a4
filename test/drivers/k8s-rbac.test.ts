import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { BatchV1Api, CoreV1Api, KubeConfig, loadAllYaml, RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createK8sDriver, doctor, REQUIRED_PERMISSIONS } from '../../drivers/k8s/index.js';
import { permissionName } from '../../drivers/k8s/doctor-permissions.js';
import { testDriver } from '../conformance/index.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';
import { EngineError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';

// The whole conformance suite as a service account holding exactly docs/rbac.md's Role, read
// from the page itself, on a cluster that authorizes every request (and WebSocket upgrade) as
// kube-apiserver --authorization-mode=RBAC does.
const cluster = await useLocalCluster({ ...DRIVER_CLUSTER, authorizationMode: 'RBAC' });
const admin = new KubeConfig();
admin.loadFromFile(cluster.kubeconfigPath);
const core = admin.makeApiClient(CoreV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
const batch = admin.makeApiClient(BatchV1Api);

/**
 * The Role `name` of docs/rbac.md (`drivetrain`, the first YAML block; `drivetrain-jobs`, job
 * mode only) and the page's RoleBinding bound to it, moved into `namespace`.
 */
function documentedRole(namespace: string, name = 'drivetrain'): { role: V1Role; binding: V1RoleBinding } {
  const page = readFileSync(new URL('../../docs/rbac.md', import.meta.url), 'utf8');
  const objects = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((block) => loadAllYaml(block[1] as string) as Array<V1Role | V1RoleBinding>);
  const role = objects.find((object) => object.kind === 'Role' && object.metadata?.name === name) as V1Role | undefined;
  const binding = objects.find((object) => object.kind === 'RoleBinding') as V1RoleBinding | undefined;
  if (role === undefined || binding === undefined) throw new Error(`docs/rbac.md has no Role "${name}" or no RoleBinding`);
  role.metadata = { ...role.metadata, namespace };
  binding.metadata = { ...binding.metadata, name, namespace };
  binding.roleRef = { ...binding.roleRef, name };
  for (const subject of binding.subjects ?? []) subject.namespace = namespace;
  return { role, binding };
}

/** What a Role grants, as doctor names permissions (`create pods/exec`). */
function grantsOf(role: V1Role): string[] {
  return (role.rules ?? []).flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((full) => {
        const [resource = '', subresource = ''] = full.split('/');
        return rule.verbs.map((verb) => permissionName(verb, group, resource, subresource));
      }),
    ),
  );
}

/** A namespace with the documented Role `roleName` (after `edit`) bound to its service account; returns that account's kubeconfig. */
async function namespaceWithRole(edit: (role: V1Role) => void = () => {}, roleName = 'drivetrain'): Promise<{ namespace: string; kubeconfig: string }> {
  const namespace = `rbac-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const { role, binding } = documentedRole(namespace, roleName);
  edit(role);
  await rbac.createNamespacedRole({ namespace, body: role });
  await rbac.createNamespacedRoleBinding({ namespace, body: binding });
  const subject = binding.subjects?.[0];
  return { namespace, kubeconfig: cluster.kubeconfigFor(`system:serviceaccount:${namespace}:${subject?.name}`) };
}

const documented = await namespaceWithRole();

testDriver({
  name: 'k8s RBAC (docs/rbac.md Role)',
  namespace: () => testNamespace('cr'),
  create: (namespace) => createK8sDriver({ namespace, kubeconfig: documented.kubeconfig, kubernetesNamespace: documented.namespace, pullTimeoutMs: 15_000 }),
  timeoutMs: 120_000,
});

describe('k8s doctor under RBAC', () => {
  it("with docs/rbac.md's Role: every permission the driver uses is allowed, and the Role grants no verb the driver does not check", async () => {
    const report = await doctor({ kubeconfig: documented.kubeconfig, kubernetesNamespace: documented.namespace }, { signal: AbortSignal.timeout(100_000) });
    const failed = report.checks.filter((check) => check.ok === false);
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    const checked = REQUIRED_PERMISSIONS.flatMap(([group, resource, subresource, verbs]) => verbs.map((verb) => permissionName(verb, group, resource, subresource)));
    const granted = grantsOf(documentedRole(documented.namespace).role);
    expect(granted.sort()).toEqual([...checked].sort());
    for (const name of checked) expect(report.checks.find((check) => check.name === name)).toMatchObject({ ok: true, detail: 'allowed' });
    expect(report.checks.find((check) => check.name === 'exec protocol')).toMatchObject({ ok: true, detail: expect.stringMatching(/^v5\.channel\.k8s\.io/) });
    // Cluster-scoped reads the namespaced Role does not grant: said, not failed.
    expect(report.checks.find((check) => check.name === 'storage class')).toMatchObject({ ok: null, detail: expect.stringContaining('cannot read StorageClasses') });
    expect(report.checks.find((check) => check.name === 'pod security')).toMatchObject({ ok: true, detail: expect.stringContaining('admitted (dry run)') });
  }, 120_000);

  it('without get on pods/exec and pods/attach (the verb a WebSocket upgrade is authorized as), doctor fails those lines and says what to grant', async () => {
    const { namespace, kubeconfig } = await namespaceWithRole((role) => {
      for (const rule of role.rules ?? []) if (rule.resources?.includes('pods/exec')) rule.verbs = ['create'];
    });
    const report = await doctor({ kubeconfig, kubernetesNamespace: namespace }, { signal: AbortSignal.timeout(100_000) });
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((check) => check.ok === false);
    expect(failed.map((check) => check.name)).toEqual(['get pods/exec', 'get pods/attach']);
    expect(failed[0]?.detail).toContain('grant it in the namespace\'s Role: apiGroups [""], resources ["pods/exec"], verbs ["get"] (docs/rbac.md)');
    expect(report.checks.find((check) => check.name === 'exec protocol')).toMatchObject({ ok: null, detail: 'not checked without get pods/exec' });
    // And the driver indeed cannot exec there.
    const driver = createK8sDriver({ namespace: testNamespace('cr'), kubeconfig, kubernetesNamespace: namespace });
    try {
      const sandbox = await driver.startSandbox({ id: 'no-exec', image: 'busybox' });
      await expect(sandbox.exec(['true'])).rejects.toThrow(/forbidden/);
    } finally {
      await driver.close();
    }
  }, 120_000);
});

/** The Jobs and pods labelled with drivetrain namespace `namespace`, as the cluster's admin sees them. */
async function leftOf(kubernetesNamespace: string, namespace: string): Promise<string[]> {
  const labelSelector = `${LABELS.namespace}=${namespace}`;
  const [jobs, pods, claims] = await Promise.all([
    batch.listNamespacedJob({ namespace: kubernetesNamespace, labelSelector }),
    core.listNamespacedPod({ namespace: kubernetesNamespace, labelSelector }),
    core.listNamespacedPersistentVolumeClaim({ namespace: kubernetesNamespace, labelSelector }),
  ]);
  return [...jobs.items.map((job) => `job ${job.metadata?.name}`), ...pods.items.map((pod) => `pod ${pod.metadata?.name}`), ...claims.items.map((claim) => `claim ${claim.metadata?.name}`)];
}

/** Collects what a stream is written. */
function collector(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { stream, text: () => text };
}

describe('k8s close() under RBAC: a kind the caller may not list', () => {
  it("job mode with docs/rbac.md's job-mode Role: a Job runs, its logs are read, it is reattached to, and close() removes it (no volume claims listed)", async () => {
    const { namespace: kubernetesNamespace, kubeconfig } = await namespaceWithRole(() => {}, 'drivetrain-jobs');
    const namespace = testNamespace('cr');
    const signal = AbortSignal.timeout(100_000);
    const driver = createK8sDriver({ namespace, kubeconfig, kubernetesNamespace, mode: 'job', pullTimeoutMs: 15_000 });
    try {
      const task = await driver.runContainer({ id: 'job', image: 'busybox', command: ['sh', '-c', 'echo from-the-job; exit 3'] }, { signal });
      expect((await task.wait({ signal })).exitCode).toBe(3);
      const out = collector();
      await task.logs({ stdout: out.stream, signal });
      expect(out.text()).toBe('from-the-job\n');
      expect((await (await driver.getContainer('job', { signal })).status({ signal })).exitCode).toBe(3);
      expect(await leftOf(kubernetesNamespace, namespace)).toEqual([expect.stringMatching(/^job /), expect.stringMatching(/^pod /)]);
    } finally {
      // Before the fix: "list volume claims: forbidden", and the Job left behind.
      await driver.close({ signal: AbortSignal.timeout(60_000) });
    }
    expect(await leftOf(kubernetesNamespace, namespace)).toEqual([]);
  }, 120_000);

  it("doctor with the job-mode Role: its permission lines allow exactly what the Role grants, each a verb the driver checks", async () => {
    const { namespace, kubeconfig } = await namespaceWithRole(() => {}, 'drivetrain-jobs');
    const report = await doctor({ kubeconfig, kubernetesNamespace: namespace }, { signal: AbortSignal.timeout(100_000) });
    const checked = REQUIRED_PERMISSIONS.flatMap(([group, resource, subresource, verbs]) => verbs.map((verb) => permissionName(verb, group, resource, subresource)));
    const granted = grantsOf(documentedRole(namespace, 'drivetrain-jobs').role);
    for (const name of granted) expect(checked).toContain(name);
    const allowed = report.checks.filter((check) => checked.includes(check.name) && check.ok === true).map((check) => check.name);
    expect(allowed.sort()).toEqual(granted.sort());
  }, 120_000);

  it('a Role without list on persistentvolumeclaims: a driver that made no volume closes; one that made a volume fails loudly and leaves its claim for a caller who may list it', async () => {
    const { namespace: kubernetesNamespace, kubeconfig } = await namespaceWithRole((role) => {
      for (const rule of role.rules ?? []) if (rule.resources?.includes('persistentvolumeclaims')) rule.verbs = rule.verbs.filter((verb) => verb !== 'list');
    });
    const signal = AbortSignal.timeout(100_000);
    const withoutVolume = createK8sDriver({ namespace: testNamespace('cr'), kubeconfig, kubernetesNamespace, pullTimeoutMs: 15_000 });
    try {
      expect((await (await withoutVolume.runContainer({ id: 'plain', image: 'busybox', command: ['true'] }, { signal })).wait({ signal })).exitCode).toBe(0);
    } finally {
      await withoutVolume.close({ signal: AbortSignal.timeout(60_000) });
    }
    expect(await leftOf(kubernetesNamespace, withoutVolume.namespace)).toEqual([]);

    const withVolume = createK8sDriver({ namespace: testNamespace('cr'), kubeconfig, kubernetesNamespace });
    try {
      await withVolume.createVolume('data', { signal });
      const closing = withVolume.close({ signal: AbortSignal.timeout(60_000) });
      await expect(closing).rejects.toBeInstanceOf(EngineError);
      await expect(closing).rejects.toMatchObject({ statusCode: 403, message: expect.stringMatching(/^list volume claims: forbidden/) });
      expect(await leftOf(kubernetesNamespace, withVolume.namespace)).toEqual([expect.stringMatching(/^claim /)]);
    } finally {
      // The cluster's admin removes what the limited caller could not.
      await createK8sDriver({ namespace: withVolume.namespace, kubeconfig: cluster.kubeconfigPath, kubernetesNamespace, ownerRecord: false, reapOrphans: false }).close({ signal: AbortSignal.timeout(60_000) });
    }
    expect(await leftOf(kubernetesNamespace, withVolume.namespace)).toEqual([]);
  }, 120_000);
});
