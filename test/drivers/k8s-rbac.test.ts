import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, loadAllYaml, RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createK8sDriver, doctor, REQUIRED_PERMISSIONS } from '../../drivers/k8s/index.js';
import { permissionName } from '../../drivers/k8s/doctor-permissions.js';
import { testDriver } from '../conformance/index.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

// The whole conformance suite as a service account holding exactly docs/rbac.md's Role, read
// from the page itself, on a cluster that authorizes every request (and WebSocket upgrade) as
// kube-apiserver --authorization-mode=RBAC does.
const cluster = await useLocalCluster({ ...DRIVER_CLUSTER, authorizationMode: 'RBAC' });
const admin = new KubeConfig();
admin.loadFromFile(cluster.kubeconfigPath);
const core = admin.makeApiClient(CoreV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

/** The Role and RoleBinding of docs/rbac.md (its first YAML block), moved into `namespace`. */
function documentedRole(namespace: string): { role: V1Role; binding: V1RoleBinding } {
  const page = readFileSync(new URL('../../docs/rbac.md', import.meta.url), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
  if (block === undefined) throw new Error('docs/rbac.md has no YAML block');
  const objects = loadAllYaml(block) as Array<V1Role | V1RoleBinding>;
  const role = objects.find((object) => object.kind === 'Role') as V1Role;
  const binding = objects.find((object) => object.kind === 'RoleBinding') as V1RoleBinding;
  role.metadata = { ...role.metadata, namespace };
  binding.metadata = { ...binding.metadata, namespace };
  for (const subject of binding.subjects ?? []) subject.namespace = namespace;
  return { role, binding };
}

/** A namespace with the documented Role bound to its service account; returns that account's kubeconfig. */
async function namespaceWithRole(edit: (role: V1Role) => void = () => {}): Promise<{ namespace: string; kubeconfig: string }> {
  const namespace = `rbac-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const { role, binding } = documentedRole(namespace);
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
    const { role } = documentedRole(documented.namespace);
    const granted = (role.rules ?? []).flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((full) => {
          const [resource = '', subresource = ''] = full.split('/');
          return rule.verbs.map((verb) => permissionName(verb, group, resource, subresource));
        }),
      ),
    );
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
