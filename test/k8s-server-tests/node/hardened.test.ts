import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { busyboxPod, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

/**
 * A cluster configured as hardened ones are: RBAC mode, a namespace under Pod Security
 * "restricted" with a ResourceQuota, and a WaitForFirstConsumer StorageClass. Real pods
 * on the node, kubectl as the independent client.
 */

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster({ authorizationMode: 'RBAC' });
});
afterAll(async () => {
  await t?.stop();
});

const eventsOf = (name: string) =>
  t.cluster.store
    .list('events', t.namespace)
    .filter((e: any) => e.involvedObject?.name === name)
    .map((e: any) => `${e.type} ${e.reason}: ${e.message}`);

async function eventAppears(name: string, match: (event: string) => boolean): Promise<string> {
  let found: string | undefined;
  await t.waitFor('events', '', () => {
    found = eventsOf(name).find(match);
    return found !== undefined;
  });
  return found!;
}

/** A pod spec that passes "restricted", with requests for a compute quota. */
const restrictedSpec = (script: string) => ({
  restartPolicy: 'Never',
  securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'main',
      image: 'busybox:latest',
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', script],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '100m', memory: '16Mi' } },
    },
  ],
});

describe('storage: WaitForFirstConsumer', () => {
  it('WaitForFirstConsumer: the claim stays Pending until a pod using it is scheduled, then binds and the pod runs', async () => {
    const claim = randomName('wait');
    await t.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { storageClassName: 'wait-for-first-consumer', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    await eventAppears(claim, (e) => e === 'Normal WaitForFirstConsumer: waiting for first consumer to be created before binding');
    expect(t.cluster.store.get('persistentvolumeclaims', t.namespace, claim)?.status?.phase).toBe('Pending');
    const classes = await t.kubectl(['get', 'storageclasses']);
    expect(classes.stdout).toMatch(/standard \(default\)\s+drivetrain\.dev\/local-docker-volume\s+Delete\s+Immediate/);
    expect(classes.stdout).toMatch(/wait-for-first-consumer\s+drivetrain\.dev\/local-docker-volume\s+Delete\s+WaitForFirstConsumer/);
    const pod = randomName('consumer');
    const body = busyboxPod(pod, 'echo data > /work/file && cat /work/file', { container: { volumeMounts: [{ name: 'work', mountPath: '/work' }] }, spec: { volumes: [{ name: 'work', persistentVolumeClaim: { claimName: claim } }] } });
    await t.apply(body);
    const bound = (await t.waitFor('persistentvolumeclaims', claim, (o) => o?.status?.phase === 'Bound')) as KObject;
    expect(bound.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe('local-node');
    const done = await t.waitFor('pods', pod, isFinished);
    expect(done!.status.phase).toBe('Succeeded');
    const events = eventsOf(claim);
    expect(events).toContain(`Normal Provisioning: External provisioner is provisioning volume for claim "${t.namespace}/${claim}"`);
    expect(events).toContain(`Normal ProvisioningSucceeded: Successfully provisioned volume pvc-${bound.metadata.uid}`);
  });
});

describe('RBAC with real pods', () => {
  it("kubectl exec, logs and run as the service account of docs/rbac.md's Role", async () => {
    const doc = readFileSync(new URL('../../../docs/rbac.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!.replaceAll('namespace: builds', `namespace: ${t.namespace}`);
    expect((await t.kubectl(['apply', '--validate=false', '-f', '-'], { input: yaml })).code).toBe(0);
    const sa = t.cluster.kubeconfigFor(`system:serviceaccount:${t.namespace}:drivetrain`);
    const pod = randomName('exec');
    await t.apply(busyboxPod(pod, 'sleep 600', { spec: { terminationGracePeriodSeconds: 0 } }));
    await t.waitFor('pods', pod, (o) => o?.status?.phase === 'Running');
    const asSa = (args: string[]) => t.kubectl(['--kubeconfig', sa, ...args]);
    const exec = await asSa(['exec', pod, '--', 'sh', '-c', 'echo from-exec; exit 4']);
    expect(exec).toMatchObject({ code: 4, stdout: 'from-exec\n' });
    const secrets = await asSa(['get', 'secrets']);
    expect(secrets.stderr).toContain(`secrets is forbidden: User "system:serviceaccount:${t.namespace}:drivetrain" cannot list resource "secrets" in API group "" in the namespace "${t.namespace}"`);
    expect((await asSa(['delete', 'pod', pod, '--wait=false'])).code).toBe(0);
  });
});

// Last: it labels the shared namespace "restricted" for good.
describe('a hardened namespace: Pod Security and quota', () => {
  it('a job whose pods violate "restricted" or miss requests under a quota reports FailedCreate; a compliant one completes', async () => {
    await t.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute' }, spec: { hard: { pods: '4', cpu: '1', memory: '512Mi' } } });
    const labelled = await t.kubectl(['label', 'namespace', t.namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    expect(labelled.code).toBe(0);
    const insecure = randomName('insecure');
    await t.apply({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: insecure }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:latest', command: ['true'] }] } } } });
    const refused = await eventAppears(insecure, (e) => e.startsWith('Warning FailedCreate: '));
    expect(refused).toMatch(new RegExp(`^Warning FailedCreate: Error creating: pods "${insecure}-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`));
    const unrequested = randomName('unrequested');
    const spec = restrictedSpec('true');
    delete (spec.containers[0] as { resources?: unknown }).resources;
    await t.apply({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: unrequested }, spec: { backoffLimit: 0, template: { spec } } });
    expect(await eventAppears(unrequested, (e) => e.startsWith('Warning FailedCreate: '))).toMatch(/is forbidden: failed quota: compute: must specify cpu for: main; memory for: main$/);
    const compliant = randomName('compliant');
    await t.apply({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: compliant }, spec: { template: { spec: restrictedSpec('id -u') } } });
    await t.waitFor('jobs', compliant, (o) => (o?.status?.succeeded ?? 0) === 1, 45_000);
    const logs = await t.kubectl(['logs', `job/${compliant}`]);
    expect(logs.stdout).toBe('65534\n');
    const events = await t.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${insecure}`]);
    expect(events.stdout).toContain('FailedCreate');
    expect(events.stdout).toContain('violates PodSecurity');
  });
});
