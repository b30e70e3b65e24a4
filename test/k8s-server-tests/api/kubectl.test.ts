import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, podBody, startApiCluster, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

const run = promisify(execFile);
let h: ApiHarness;
let cacheDir: string;
let ns: string;

beforeAll(async () => {
  h = await startApiCluster();
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  ns = await createNamespace(h.core);
});
afterAll(async () => {
  await h?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

/** kubectl against the test server (async: the server runs in this process). */
async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', h.cluster.kubeconfigPath, '-n', ns, ...args], {
    env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' },
    timeout: 20_000,
  });
  return stdout;
}

describe('local API server: kubectl proofs (API only)', () => {
  it('kubectl get pods / pvc / ns prints real tables', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kp1', { app: 'k' }) });
    await h.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'kv1' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    const pods = await kubectl('get', 'pods');
    expect(pods).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(pods).toMatch(/kp1\s+0\/1\s+Pending\s+0\s+\d+s/);
    const pvc = await kubectl('get', 'pvc');
    expect(pvc).toMatch(/NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE/);
    expect(pvc).toMatch(/kv1\s+Pending\s+standard\s+<unset>/);
    const namespaces = await kubectl('get', 'ns');
    expect(namespaces).toMatch(new RegExp(`${ns}\\s+Active`));
    expect(namespaces).toMatch(/kube-system\s+Active/);
    const json = JSON.parse(await kubectl('get', 'po', 'kp1', '-o', 'json'));
    expect(json.metadata.labels).toEqual({ app: 'k' });
  });

  it('kubectl describe pod shows the pod and its events', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kd1') });
    const pod = h.cluster.store.get('pods', ns, 'kd1')!;
    const record = (await import('../../k8s-server/events.js')).eventRecorder(() => h.cluster.store);
    record(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/kd1 to local-node`);
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    const text = await kubectl('describe', 'pod', 'kd1');
    expect(text).toMatch(/Name:\s+kd1/);
    expect(text).toMatch(new RegExp(`Namespace:\\s+${ns}`));
    expect(text).toMatch(/Status:\s+Pending/);
    expect(text).toMatch(/Normal\s+Scheduled\s+.*Successfully assigned/);
    expect(text).toMatch(/Warning\s+BackOff\s+.*\(x2 over/);
  });

  it('kubectl delete pods -l deletes only the selected pods', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kx1', { del: 'yes' }) });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kx2', { del: 'yes' }) });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kx3', { del: 'no' }) });
    const out = await kubectl('delete', 'pods', '-l', 'del=yes');
    expect(out).toContain('pod "kx1" deleted');
    expect(out).toContain('pod "kx2" deleted');
    const left = (await h.core.listNamespacedPod({ namespace: ns, labelSelector: 'del' })).items.map((p) => p.metadata?.name);
    expect(left).toEqual(['kx3']);
  });

  it('kubectl get pods -w prints changes as they happen', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('kw1', { w: '1' }) });
    const child = spawn('kubectl', ['--kubeconfig', h.cluster.kubeconfigPath, '-n', ns, 'get', 'pods', '-l', 'w', '-w', '--request-timeout=15s'], {
      env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => /kw1\s+0\/1\s+Pending/.test(out), 15_000, 'kubectl get -w to print the pod Pending');
      h.cluster.store.update('pods', ns, 'kw1', (p) => {
        p.status.phase = 'Running';
        p.status.containerStatuses = [{ name: 'main', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }];
      });
      await eventually(() => /kw1\s+1\/1\s+Running/.test(out), 30_000, 'kubectl get -w to print the pod Running');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('kubectl create -f --validate=false and get with short names work', async () => {
    const child = spawn('kubectl', ['--kubeconfig', h.cluster.kubeconfigPath, '-n', ns, 'create', '--validate=false', '-f', '-'], { env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kcm' }, data: { a: '1' } }));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toContain('configmap/kcm created');
    expect(await kubectl('get', 'cm')).toMatch(/kcm\s+1\s+\d+s/);
  });

  it('kubectl create namespace/configmap/secret/job/deployment (protobuf bodies) store what was asked', async () => {
    const other = `${ns}-pb`;
    expect(await kubectl('create', 'namespace', other)).toContain(`namespace/${other} created`);
    expect((await h.core.readNamespace({ name: other })).metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': other });
    await kubectl('create', 'configmap', 'pbcm', '--from-literal=k=v');
    expect((await h.core.readNamespacedConfigMap({ namespace: ns, name: 'pbcm' })).data).toEqual({ k: 'v' });
    await kubectl('create', 'secret', 'generic', 'pbs', '--from-literal=p=q');
    expect((await h.core.readNamespacedSecret({ namespace: ns, name: 'pbs' })).data).toEqual({ p: Buffer.from('q').toString('base64') });
    await kubectl('create', 'job', 'pbj', '--image=busybox:latest', '--', 'sh', '-c', 'echo hi');
    const job = await h.batch.readNamespacedJob({ namespace: ns, name: 'pbj' });
    expect(job.spec?.template.spec?.containers[0]).toMatchObject({ name: 'pbj', image: 'busybox:latest', command: ['sh', '-c', 'echo hi'] });
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    await kubectl('create', 'deployment', 'pbd', '--image=busybox:latest', '--replicas=2');
    const dep = await h.apps.readNamespacedDeployment({ namespace: ns, name: 'pbd' });
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.spec?.strategy?.type).toBe('RollingUpdate');
    await h.core.deleteNamespace({ name: other });
  });
});
