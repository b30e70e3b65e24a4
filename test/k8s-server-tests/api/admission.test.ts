import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podBody, randomName, startApiCluster, statusOf, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

/**
 * Admission as clusters are configured: Pod Security from namespace labels and
 * ResourceQuota on pods, cpu and memory, with the real plugins' messages.
 */

let h: ApiHarness;
let cacheDir: string;
beforeAll(async () => {
  h = await startApiCluster();
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
});
afterAll(async () => {
  await h?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', h.cluster.kubeconfigPath, ...args], { env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' }, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const name = randomName('adm');
  await h.core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/** What "restricted" says of a pod whose one container sets nothing. */
const restrictedReasons = (container: string) =>
  `allowPrivilegeEscalation != false (container "${container}" must set securityContext.allowPrivilegeEscalation=false), ` +
  `unrestricted capabilities (container "${container}" must set securityContext.capabilities.drop=["ALL"]), ` +
  `runAsNonRoot != true (pod or container "${container}" must set securityContext.runAsNonRoot=true), ` +
  `seccompProfile (pod or container "${container}" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`;
const RESTRICTED_DEFAULT = `violates PodSecurity "restricted:latest": ${restrictedReasons('main')}`;

/** A pod that passes "restricted". */
function restrictedPod(name: string): k8s.V1Pod {
  const pod = podBody(name);
  pod.spec!.securityContext = { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } };
  pod.spec!.containers[0]!.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  return pod;
}

describe('Pod Security admission', () => {
  it('enforce: restricted refuses a default pod with every reason, in the checks\' order, and admits a compliant one', async () => {
    const ns = await namespace({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const refused = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: podBody('plain') }));
    expect(refused).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `pods "plain" is forbidden: ${RESTRICTED_DEFAULT}`,
      reason: 'Forbidden',
      details: { name: 'plain', kind: 'pods' },
      code: 403,
    });
    const root = restrictedPod('root');
    root.spec!.containers[0]!.securityContext!.runAsUser = 0;
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: root }))).message).toBe('pods "root" is forbidden: violates PodSecurity "restricted:latest": runAsUser=0 (container "main" must not set runAsUser=0)');
    const created = await h.core.createNamespacedPod({ namespace: ns, body: restrictedPod('ok') });
    expect(created.metadata?.name).toBe('ok');
  });

  it('enforce: baseline refuses privileged, host namespaces and hostPath, and lets a default pod in', async () => {
    const ns = await namespace({ 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'latest' });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('plain') });
    const bad = podBody('bad');
    bad.spec!.hostNetwork = true;
    bad.spec!.hostPID = true;
    bad.spec!.volumes = [{ name: 'host', hostPath: { path: '/etc' } }];
    bad.spec!.containers[0]!.securityContext = { privileged: true, capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN', 'CHOWN'] } };
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: bad }))).message).toBe(
      'pods "bad" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "main" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add), ' +
        'host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "host"), privileged (container "main" must not set securityContext.privileged=true)',
    );
  });

  it('namespace labels that do not parse are refused on create, and on update when they change', async () => {
    const name = randomName('adm');
    const refused = await statusOf(h.core.createNamespace({ body: { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn-version': 'v2' } } } }));
    expect(refused).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message:
        `Namespace "${name}" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted, ` +
        'metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v2": must be "latest" or "v1.x"]',
      details: { name, kind: 'Namespace' },
    });
    const ns = await namespace({ 'pod-security.kubernetes.io/enforce-version': 'v1.30' });
    const labelled = await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=strict']);
    expect(labelled.code).not.toBe(0);
    expect(labelled.stderr).toContain(`The Namespace "${ns}" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`);
    expect((await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=baseline'])).code).toBe(0);
  });

  it('warn: the pod is created and kubectl prints the warning; kubectl run into a restricted namespace is refused', async () => {
    const warned = await namespace({ 'pod-security.kubernetes.io/warn': 'restricted' });
    const run = await kubectl(['-n', warned, 'run', 'w', '--image=busybox', '--restart=Never', '--', 'true']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`Warning: would violate PodSecurity "restricted:latest": ${restrictedReasons('w')}`);
    const enforced = await namespace({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const refused = await kubectl(['-n', enforced, 'run', 'r', '--image=busybox', '--restart=Never', '--', 'true']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`Error from server (Forbidden): pods "r" is forbidden: violates PodSecurity "restricted:latest": ${restrictedReasons('r')}`);
    // Workloads are warned about (enforce level), never refused: their pods are.
    const job = await kubectl(['-n', enforced, 'create', 'job', 'j', '--image=busybox', '--', 'true']);
    expect(job.code).toBe(0);
    expect(job.stderr).toContain('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false');
  });
});

describe('ResourceQuota', () => {
  const pod = (name: string, cpu?: string, memory?: string) => {
    const body = podBody(name);
    if (cpu || memory) body.spec!.containers[0]!.resources = { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } };
    return body;
  };
  const quotaStatus = async (ns: string) => (await h.core.readNamespacedResourceQuota({ namespace: ns, name: 'compute' })).status;

  it('status kept by the controller; pods without requests refused; exceeding pods refused with used and limited', async () => {
    const ns = await namespace();
    await h.core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: 'compute' }, spec: { hard: { pods: '2', cpu: '1', memory: '1Gi' } } } });
    await eventually(async () => (await quotaStatus(ns))?.used?.pods === '0', 15_000, 'the quota to count 0 pods');
    expect(await quotaStatus(ns)).toEqual({ hard: { pods: '2', cpu: '1', memory: '1Gi' }, used: { pods: '0', cpu: '0', memory: '0' } });
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: pod('bare') }))).message).toBe('pods "bare" is forbidden: failed quota: compute: must specify cpu for: main; memory for: main');
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: pod('half', '500m') }))).message).toBe('pods "half" is forbidden: failed quota: compute: must specify memory for: main');
    // A dry run is judged by quota as well, and charges nothing.
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: pod('bare'), dryRun: 'All' }))).message).toBe('pods "bare" is forbidden: failed quota: compute: must specify cpu for: main; memory for: main');
    await h.core.createNamespacedPod({ namespace: ns, body: pod('dry', '500m', '100Mi'), dryRun: 'All' });
    expect((await quotaStatus(ns))?.used).toEqual({ pods: '0', cpu: '0', memory: '0' });
    await h.core.createNamespacedPod({ namespace: ns, body: pod('p1', '500m', '100Mi') });
    expect((await statusOf(h.core.createNamespacedPod({ namespace: ns, body: pod('big', '600m', '100Mi') }))).message).toBe('pods "big" is forbidden: exceeded quota: compute, requested: cpu=600m, used: cpu=500m, limited: cpu=1');
    await h.core.createNamespacedPod({ namespace: ns, body: pod('p2', '500m', '100Mi') });
    await eventually(async () => (await quotaStatus(ns))?.used?.pods === '2', 15_000, 'the quota to count 2 pods');
    expect((await quotaStatus(ns))?.used).toEqual({ pods: '2', cpu: '1', memory: '200Mi' });
    const third = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: pod('p3', '100m', '100Mi') }));
    expect(third).toMatchObject({ code: 403, reason: 'Forbidden', message: 'pods "p3" is forbidden: exceeded quota: compute, requested: cpu=100m,pods=1, used: cpu=1,pods=2, limited: cpu=1,pods=2' });
    // A pod that ends frees its share.
    await h.core.deleteNamespacedPod({ namespace: ns, name: 'p1', gracePeriodSeconds: 0 });
    await eventually(async () => (await quotaStatus(ns))?.used?.pods === '1', 15_000, 'the quota to count 1 pod');
    expect((await quotaStatus(ns))?.used).toEqual({ pods: '1', cpu: '500m', memory: '100Mi' });
    await h.core.createNamespacedPod({ namespace: ns, body: pod('p3', '100m', '100Mi') });
  });

  it('limits count as requests when requests are absent; kubectl create quota and get quota', async () => {
    const ns = await namespace();
    const created = await kubectl(['-n', ns, 'create', 'quota', 'compute', '--hard=pods=5,requests.cpu=1,limits.memory=256Mi']);
    expect(created.code).toBe(0);
    await eventually(async () => (await quotaStatus(ns))?.used?.pods === '0', 15_000, 'the quota to count 0 pods');
    const limited = podBody('lim');
    limited.spec!.containers[0]!.resources = { limits: { cpu: '250m', memory: '64Mi' } };
    const admitted = await h.core.createNamespacedPod({ namespace: ns, body: limited });
    expect(admitted.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '250m', memory: '64Mi' });
    await eventually(async () => (await quotaStatus(ns))?.used?.pods === '1', 15_000, 'the quota to count 1 pod');
    const table = await kubectl(['-n', ns, 'get', 'quota']);
    expect(table.stdout).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\ncompute\s+\d+s\s+pods: 1\/5, requests\.cpu: 250m\/1\s+limits\.memory: 64Mi\/256Mi\n$/);
  });
});
