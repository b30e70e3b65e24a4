import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noopNode, startLocalCluster, type LocalCluster } from '../../k8s-server/cluster.js';
import { createNamespace, podBody, randomName, statusOf } from './helpers.js';

/**
 * Authorization mode RBAC: bearer tokens, Roles and bindings evaluated on every
 * request (WebSocket upgrades included), 401/403 Status objects worded as the real
 * API server words them, SelfSubjectAccessReview from the same rules.
 */

let cluster: LocalCluster;
let strict: LocalCluster;
let admin: k8s.KubeConfig;
let cacheDir: string;
const SA = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;

function kubeConfig(path: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const rbac = (kc: k8s.KubeConfig) => kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const core = (kc: k8s.KubeConfig) => kc.makeApiClient(k8s.CoreV1Api);

async function grant(ns: string, name: string, rules: k8s.V1PolicyRule[], subject: k8s.RbacV1Subject): Promise<void> {
  await rbac(admin).createNamespacedRole({ namespace: ns, body: { metadata: { name }, rules } });
  await rbac(admin).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [subject] } });
}

/** kubectl as an independent client, with a kubeconfig of the cluster. */
function kubectl(kubeconfig: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

/** A plain GET over HTTPS, with a bearer token or none. */
function get(c: LocalCluster, path: string, token?: string): Promise<{ code: number; body: string }> {
  const ca = Buffer.from(admin.getCurrentCluster()!.caData!, 'base64');
  return new Promise((resolve, reject) => {
    request(`${c.url}${path}`, { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Opens a WebSocket upgrade of pods/exec with the user's token; the status of a refused upgrade and its body. */
function upgrade(c: LocalCluster, kc: k8s.KubeConfig, ns: string, pod: string): Promise<{ code: number; body: any }> {
  const token = kc.getCurrentUser()?.token;
  const url = `${c.url.replace('https', 'wss')}/api/v1/namespaces/${ns}/pods/${pod}/exec?command=true&stdout=true`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers: { Authorization: `Bearer ${token}` }, ca: kc.getCurrentCluster()!.caData ? Buffer.from(kc.getCurrentCluster()!.caData!, 'base64') : undefined });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    // The upgrade passed authorization: the API-only cluster's node then drops it.
    ws.on('error', () => resolve({ code: 0, body: undefined }));
    ws.on('open', () => resolve({ code: 101, body: undefined }));
    setTimeout(() => reject(new Error('no answer to the upgrade')), 10_000).unref();
  });
}

beforeAll(async () => {
  cluster = await startLocalCluster({ startNode: noopNode, authorizationMode: 'RBAC' });
  strict = await startLocalCluster({ startNode: noopNode, authorizationMode: 'RBAC', authorizeUpgradeCreate: true });
  admin = kubeConfig(cluster.kubeconfigPath);
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
});
afterAll(async () => {
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  for (const c of [cluster, strict]) {
    await c?.stop({ removeContainers: true });
    if (c) rmSync(c.stateDir, { recursive: true, force: true });
  }
});

describe('authentication', () => {
  it('a token nobody issued is 401 Unauthorized; no token is system:anonymous, who may read /version but not discovery', async () => {
    const unknown = await get(cluster, '/api/v1/namespaces', 'not-a-token');
    expect(unknown.code).toBe(401);
    expect(JSON.parse(unknown.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    expect((await get(cluster, '/version')).code).toBe(200);
    const api = await get(cluster, '/api');
    expect(api.code).toBe(403);
    expect(JSON.parse(api.body)).toMatchObject({ reason: 'Forbidden', message: 'forbidden: User "system:anonymous" cannot get path "/api"', details: {} });
  });

  it('the kubeconfig user is kubernetes-admin in system:masters; kubeconfigFor gives a service account its groups', async () => {
    const whoami = async (kc: k8s.KubeConfig) => (await kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })).status?.userInfo;
    expect(await whoami(admin)).toMatchObject({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    const sa = kubeConfig(cluster.kubeconfigFor(SA('builds', 'worker')));
    expect(await whoami(sa)).toMatchObject({ username: SA('builds', 'worker'), groups: ['system:serviceaccounts', 'system:serviceaccounts:builds', 'system:authenticated'] });
  });
});

describe('RBAC decisions', () => {
  it('without a binding every request is 403, worded as the authorization filter words it', async () => {
    const ns = await createNamespace(core(admin));
    const kc = kubeConfig(cluster.kubeconfigFor(SA(ns, 'nobody')));
    const user = JSON.stringify(SA(ns, 'nobody'));
    expect(await statusOf(core(kc).listNamespacedPod({ namespace: ns }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `pods is forbidden: User ${user} cannot list resource "pods" in API group "" in the namespace "${ns}"`,
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    expect((await statusOf(core(kc).readNamespacedPod({ namespace: ns, name: 'p1' }))).message).toBe(`pods "p1" is forbidden: User ${user} cannot get resource "pods" in API group "" in the namespace "${ns}"`);
    expect((await statusOf(core(kc).readNamespacedPodLog({ namespace: ns, name: 'p1' }))).message).toBe(`pods "p1" is forbidden: User ${user} cannot get resource "pods/log" in API group "" in the namespace "${ns}"`);
    const jobs = await statusOf(kc.makeApiClient(k8s.BatchV1Api).createNamespacedJob({ namespace: ns, body: { metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } }));
    expect(jobs).toMatchObject({ message: `jobs.batch is forbidden: User ${user} cannot create resource "jobs" in API group "batch" in the namespace "${ns}"`, details: { group: 'batch', kind: 'jobs' } });
    expect((await statusOf(core(kc).listNamespace())).message).toBe(`namespaces is forbidden: User ${user} cannot list resource "namespaces" in API group "" at the cluster scope`);
    expect((await statusOf(core(kc).readNamespace({ name: ns }))).message).toBe(`namespaces "${ns}" is forbidden: User ${user} cannot get resource "namespaces" in API group "" in the namespace "${ns}"`);
  });

  it('a Role grants its verbs on its resources in its namespace only; resourceNames narrow it', async () => {
    const ns = await createNamespace(core(admin));
    const other = await createNamespace(core(admin));
    const name = SA(ns, 'reader');
    await grant(ns, 'reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'], resourceNames: ['allowed'] }], { kind: 'ServiceAccount', name: 'reader' });
    await core(admin).createNamespacedPod({ namespace: ns, body: podBody('p1') });
    await core(admin).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'allowed' } } });
    await core(admin).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'other' } } });
    const kc = kubeConfig(cluster.kubeconfigFor(name));
    expect((await core(kc).listNamespacedPod({ namespace: ns })).items.map((p) => p.metadata?.name)).toEqual(['p1']);
    expect((await core(kc).readNamespacedPod({ namespace: ns, name: 'p1' })).metadata?.name).toBe('p1');
    expect((await statusOf(core(kc).deleteNamespacedPod({ namespace: ns, name: 'p1' }))).code).toBe(403);
    expect((await statusOf(core(kc).listNamespacedPod({ namespace: other }))).code).toBe(403);
    expect((await core(kc).readNamespacedConfigMap({ namespace: ns, name: 'allowed' })).metadata?.name).toBe('allowed');
    expect((await statusOf(core(kc).readNamespacedConfigMap({ namespace: ns, name: 'other' }))).code).toBe(403);
    // A list naming one object by fieldSelector is authorized as that object (requestinfo.go NewRequestInfo).
    expect((await core(kc).listNamespacedConfigMap({ namespace: ns, fieldSelector: 'metadata.name=allowed' })).items.map((c) => c.metadata?.name)).toEqual(['allowed']);
    expect((await statusOf(core(kc).listNamespacedConfigMap({ namespace: ns }))).code).toBe(403);
    // Not found is only told to whoever may read: the authorizer runs first.
    expect((await statusOf(core(kc).readNamespacedPod({ namespace: ns, name: 'absent' }))).code).toBe(404);
  });

  it('ClusterRoles through RoleBindings and ClusterRoleBindings, User and Group subjects; a missing role is named in the 403', async () => {
    const ns = await createNamespace(core(admin));
    await rbac(admin).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] } });
    await rbac(admin).createClusterRole({ body: { metadata: { name: `ns-lister-${ns}` }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }] } });
    await rbac(admin).createClusterRoleBinding({ body: { metadata: { name: `ns-lister-${ns}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `ns-lister-${ns}` }, subjects: [{ kind: 'Group', name: `team-${ns}`, apiGroup: 'rbac.authorization.k8s.io' }] } });
    await rbac(admin).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'dangling' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'missing' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] } });
    const alice = kubeConfig(cluster.kubeconfigFor('alice'));
    expect((await core(alice).listNamespacedPod({ namespace: ns })).items).toEqual([]);
    expect((await statusOf(core(alice).createNamespacedPod({ namespace: ns, body: podBody('p') }))).code).toBe(403);
    expect((await statusOf(core(alice).listNamespacedSecret({ namespace: ns }))).code).toBe(403);
    const carol = kubeConfig(cluster.kubeconfigFor({ name: 'carol', groups: [`team-${ns}`] }));
    expect((await core(carol).listNamespace()).items.length).toBeGreaterThan(0);
    const bob = kubeConfig(cluster.kubeconfigFor('bob'));
    expect((await statusOf(core(bob).listNamespacedPod({ namespace: ns }))).message).toBe(`pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "${ns}": RBAC: role.rbac.authorization.k8s.io "missing" not found`);
  });

  it('SelfSubjectAccessReview answers from the same rules, with the granting binding as reason', async () => {
    const ns = await createNamespace(core(admin));
    await grant(ns, 'execer', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }], { kind: 'ServiceAccount', name: 'execer', namespace: ns });
    const kc = kubeConfig(cluster.kubeconfigFor(SA(ns, 'execer')));
    const review = (verb: string, subresource?: string) =>
      kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: ns, verb, resource: 'pods', ...(subresource ? { subresource } : {}) } } } });
    expect((await review('get', 'exec')).status).toEqual({ allowed: true, reason: `RBAC: allowed by RoleBinding "execer/${ns}" of Role "execer" to ServiceAccount "execer/${ns}"` });
    expect((await review('create', 'exec')).status).toEqual({ allowed: false });
    expect((await review('get')).status).toEqual({ allowed: false });
    const invalid = await statusOf(kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: {} } }));
    expect(invalid).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(invalid.message).toContain('spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
  });

  it('exec upgrades are authorized as get on pods/exec before the pod is looked up; from 1.35 also as create', async () => {
    for (const c of [cluster, strict]) {
      const adminKc = kubeConfig(c.kubeconfigPath);
      const ns = await createNamespace(core(adminKc));
      await core(adminKc).createNamespacedPod({ namespace: ns, body: podBody('p') });
      const only = async (verb: string) => {
        const user = randomName(verb);
        await rbac(adminKc).createNamespacedRole({ namespace: ns, body: { metadata: { name: user }, rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: [verb] }] } });
        await rbac(adminKc).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: user }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } });
        return { user, kc: kubeConfig(c.kubeconfigFor(user)) };
      };
      const create = await only('create');
      const refused = await upgrade(c, create.kc, ns, 'p');
      expect(refused.code).toBe(403);
      expect(refused.body.message).toBe(`pods "p" is forbidden: User "${create.user}" cannot get resource "pods/exec" in API group "" in the namespace "${ns}"`);
      const get = await only('get');
      const answer = await upgrade(c, get.kc, ns, 'p');
      if (c === cluster) {
        expect(answer.code).not.toBe(403);
      } else {
        // pkg/registry/core/pod/rest/authorize.go: NewForbidden with the authorizer's (empty) reason.
        expect(answer).toMatchObject({ code: 403, body: { message: 'pods "p" is forbidden: ', details: { name: 'p', kind: 'pods' } } });
      }
    }
  });
});

describe('RBAC objects', () => {
  const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

  it('rules need verbs, and API groups and resources or (cluster roles only) non-resource URLs; names are path segments', async () => {
    const ns = await createNamespace(core(admin));
    const role = await statusOf(
      rbac(admin).createNamespacedRole({ namespace: ns, body: { metadata: { name: 'system:bad' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }, { verbs: ['get'] }] } }),
    );
    expect(role).toMatchObject({ code: 422, reason: 'Invalid', details: { name: 'system:bad', group: 'rbac.authorization.k8s.io', kind: 'Role' } });
    expect(role.message).toBe(
      'Role.rbac.authorization.k8s.io "system:bad" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, ' +
        'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs, ' +
        'rules[2].apiGroups: Required value: resource rules must supply at least one api group, rules[2].resources: Required value: resource rules must supply at least one resource]',
    );
    const mixed = await statusOf(rbac(admin).createClusterRole({ body: { metadata: { name: `mixed-${ns}` }, rules: [{ nonResourceURLs: ['/healthz'], apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } }));
    expect(mixed.message).toBe(`ClusterRole.rbac.authorization.k8s.io "mixed-${ns}" is invalid: rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular resources and non-resource URLs`);
    const created = await rbac(admin).createClusterRole({ body: { metadata: { name: `system:health-${ns}` }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] } });
    expect(created.metadata?.name).toBe(`system:health-${ns}`);
  });

  it('bindings: roleRef of an RBAC kind (ClusterRole only for cluster bindings) that cannot change; subjects checked, API groups defaulted', async () => {
    const ns = await createNamespace(core(admin));
    const cluster = await statusOf(rbac(admin).createClusterRoleBinding({ body: { metadata: { name: `b-${ns}` }, roleRef: ref('Role', 'x'), subjects: [{ kind: 'ServiceAccount', name: 'sa' } as k8s.RbacV1Subject] } }));
    expect(cluster.message).toBe(
      `ClusterRoleBinding.rbac.authorization.k8s.io "b-${ns}" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value]`,
    );
    const subject = await statusOf(rbac(admin).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'b' }, roleRef: ref('Role', 'x'), subjects: [{ kind: 'Robot', name: 'r' } as k8s.RbacV1Subject] } }));
    expect(subject.message).toBe(`RoleBinding.rbac.authorization.k8s.io "b" is invalid: subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`);
    const binding = await rbac(admin).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'x' } as k8s.V1RoleRef, subjects: [{ kind: 'User', name: 'dana' } as k8s.RbacV1Subject] } });
    expect(binding.roleRef).toEqual(ref('Role', 'x'));
    expect(binding.subjects).toEqual([{ kind: 'User', name: 'dana', apiGroup: 'rbac.authorization.k8s.io' }]);
    const changed = await statusOf(rbac(admin).replaceNamespacedRoleBinding({ namespace: ns, name: 'b', body: { ...binding, roleRef: ref('ClusterRole', 'view') } }));
    expect(changed).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(changed.message).toBe(`RoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef: Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"ClusterRole","Name":"view"}: cannot change roleRef`);
  });
});

describe('kubectl against RBAC', () => {
  it('create role / rolebinding, auth can-i (also --as, impersonation) and can-i --list', async () => {
    const ns = await createNamespace(core(admin));
    const path = cluster.kubeconfigPath;
    expect((await kubectl(path, ['-n', ns, 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods'])).code).toBe(0);
    expect((await kubectl(path, ['-n', ns, 'create', 'rolebinding', 'pod-reader', '--role=pod-reader', '--user=dana'])).code).toBe(0);
    const listed = await kubectl(path, ['-n', ns, 'get', 'rolebindings']);
    expect(listed.stdout).toMatch(/^NAME\s+ROLE\s+AGE\npod-reader\s+Role\/pod-reader\s+\d+s\n$/);
    expect(await kubectl(path, ['-n', ns, 'auth', 'can-i', 'list', 'pods', '--as', 'dana'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectl(path, ['-n', ns, 'auth', 'can-i', 'delete', 'pods', '--as', 'dana'])).toMatchObject({ code: 1, stdout: 'no\n' });
    const dana = cluster.kubeconfigFor('dana');
    expect(await kubectl(dana, ['-n', ns, 'auth', 'can-i', 'get', 'pods'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    const list = await kubectl(dana, ['-n', ns, 'auth', 'can-i', '--list']);
    expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    // Impersonation itself is authorized: dana may not act as anyone.
    const impersonating = await kubectl(dana, ['-n', ns, 'get', 'pods', '--as', 'admin']);
    expect(impersonating.code).not.toBe(0);
    expect(impersonating.stderr).toContain('Error from server (Forbidden): users "admin" is forbidden: User "dana" cannot impersonate resource "users" in API group "" at the cluster scope');
    const denied = await kubectl(dana, ['-n', ns, 'get', 'secrets']);
    expect(denied.stderr).toContain(`Error from server (Forbidden): secrets is forbidden: User "dana" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
  });

  it("docs/rbac.md's Role and RoleBinding give the driver's service account exactly what the doc lists", async () => {
    const doc = readFileSync(new URL('../../../docs/rbac.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const [role, binding] = k8s.loadAllYaml(yaml) as [k8s.V1Role, k8s.V1RoleBinding];
    const ns = role.metadata!.namespace!;
    const subject = binding.subjects![0]!;
    await core(admin).createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    const applied = await kubectl(cluster.kubeconfigPath, ['apply', '--validate=false', '-f', '-'], yaml);
    expect(applied.stderr).toBe('');
    const user = SA(subject.namespace!, subject.name);
    const kc = kubeConfig(cluster.kubeconfigFor(user));
    const can = async (verb: string, group: string, resource: string, subresource = '') =>
      (await kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: ns, verb, group, resource, subresource } } } })).status!.allowed;
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    for (const rule of role.rules!) {
      for (const group of rule.apiGroups!) {
        for (const combined of rule.resources!) {
          const [resource, subresource] = combined.split('/') as [string, string | undefined];
          for (const verb of all) expect({ verb, combined, allowed: await can(verb, group, resource, subresource) }).toEqual({ verb, combined, allowed: rule.verbs.includes(verb) });
        }
      }
    }
    expect(await can('create', '', 'secrets')).toBe(false);
    // What the server enforces on real requests, not only what reviews say.
    const pods = core(kc);
    await pods.createNamespacedPod({ namespace: ns, body: podBody('task') });
    expect((await pods.listNamespacedPod({ namespace: ns })).items).toHaveLength(1);
    expect((await statusOf(pods.readNamespacedPodLog({ namespace: ns, name: 'task' }))).code).not.toBe(403);
    expect((await upgrade(cluster, kc, ns, 'task')).code).not.toBe(403);
    await pods.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    await pods.listNamespacedEvent({ namespace: ns });
    expect((await statusOf(kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'absent' }))).code).toBe(404);
    expect((await statusOf(pods.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' } } }))).code).toBe(403);
    expect((await statusOf(pods.patchNamespacedPod({ namespace: ns, name: 'task', body: { metadata: { labels: { a: 'b' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)))).code).toBe(403);
    await pods.deleteNamespacedPod({ namespace: ns, name: 'task' });
    const canI = await kubectl(cluster.kubeconfigPath, ['auth', 'can-i', 'create', 'pods/exec', '-n', ns, '--as', user]);
    expect(canI).toMatchObject({ code: 0, stdout: 'yes\n' });
  });
});
