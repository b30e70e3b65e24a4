import * as k8s from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, mergePatch, podBody, startApiCluster, statusOf, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

let h: ApiHarness;
let ns: string;
beforeAll(async () => {
  h = await startApiCluster();
  ns = await createNamespace(h.core);
});
afterAll(async () => h?.stop());

describe('local API server: CRUD through client-node', () => {
  it('creates a pod with server-set identity and admission defaults', async () => {
    const pod = await h.core.createNamespacedPod({ namespace: ns, body: podBody('p1') });
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(pod.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(pod.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.qosClass).toBe('BestEffort');
    expect(pod.spec?.restartPolicy).toBe('Always');
    expect(pod.spec?.serviceAccountName).toBe('default');
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(30);
    expect(pod.spec?.containers[0]?.imagePullPolicy).toBe('Always');
    expect(pod.spec?.nodeName).toBeUndefined();
    const got = await h.core.readNamespacedPod({ namespace: ns, name: 'p1' });
    expect(got.metadata?.uid).toBe(pod.metadata?.uid);
  });

  it('answers 404, 409 AlreadyExists and 422 with real Status shapes', async () => {
    const missing = await statusOf(h.core.readNamespacedPod({ namespace: ns, name: 'nope' }));
    expect(missing).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
    const job404 = await statusOf(h.batch.readNamespacedJob({ namespace: ns, name: 'nope' }));
    expect(job404).toMatchObject({ code: 404, message: 'jobs.batch "nope" not found', details: { group: 'batch' } });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('dup') });
    const dup = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: podBody('dup') }));
    expect(dup).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'pods "dup" already exists' });
    const invalid = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'bad' }, spec: { containers: [{ name: 'c', image: '' }] } } }));
    expect(invalid.code).toBe(422);
    expect(invalid.reason).toBe('Invalid');
    expect(invalid.details.causes).toContainEqual({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' });
    const badName = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: podBody('Bad_Name') }));
    expect(badName.details.causes[0].field).toBe('metadata.name');
    const badRestart = await statusOf(h.core.createNamespacedPod({ namespace: ns, body: { ...podBody('r'), spec: { ...podBody('r').spec!, restartPolicy: 'Sometimes' } } }));
    expect(badRestart.details.causes[0]).toMatchObject({ reason: 'FieldValueNotSupported', field: 'spec.restartPolicy' });
    const noNs = await statusOf(h.core.createNamespacedPod({ namespace: 'missing-ns-x', body: podBody('p') }));
    expect(noNs).toMatchObject({ code: 404, message: 'namespaces "missing-ns-x" not found' });
  });

  it('rejects a stale update with 409 Conflict and accepts an unconditional one', async () => {
    const pod = await h.core.createNamespacedPod({ namespace: ns, body: podBody('upd', { a: '1' }) });
    const fresh = await h.core.replaceNamespacedPod({ namespace: ns, name: 'upd', body: { ...pod, metadata: { ...pod.metadata, labels: { a: '2' } } } });
    expect(Number(fresh.metadata?.resourceVersion)).toBeGreaterThan(Number(pod.metadata?.resourceVersion));
    const stale = await statusOf(h.core.replaceNamespacedPod({ namespace: ns, name: 'upd', body: { ...pod, metadata: { ...pod.metadata, labels: { a: '3' } } } }));
    expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(stale.message).toContain('the object has been modified');
    const unconditional = await h.core.replaceNamespacedPod({ namespace: ns, name: 'upd', body: { ...fresh, metadata: { ...fresh.metadata, resourceVersion: '', labels: { a: '4' } } } });
    expect(unconditional.metadata?.labels).toEqual({ a: '4' });
    const immutable = await statusOf(h.core.replaceNamespacedPod({ namespace: ns, name: 'upd', body: { ...unconditional, spec: { ...unconditional.spec!, restartPolicy: 'Never' } } }));
    expect(immutable.code).toBe(422);
  });

  it('patches with merge patch and JSON patch, and status through the subresource', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('pat') });
    const merged = await h.core.patchNamespacedPod({ namespace: ns, name: 'pat', body: { metadata: { labels: { m: 'yes' } } } }, mergePatch);
    expect(merged.metadata?.labels).toEqual({ m: 'yes' });
    const jsonPatched = await h.core.patchNamespacedPod(
      { namespace: ns, name: 'pat', body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'x' } }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.annotations).toEqual({ note: 'x' });
    const status = await h.core.patchNamespacedPodStatus({ namespace: ns, name: 'pat', body: { status: { phase: 'Running' } } }, mergePatch);
    expect(status.status?.phase).toBe('Running');
    // The main resource ignores status changes.
    const ignored = await h.core.patchNamespacedPod({ namespace: ns, name: 'pat', body: { status: { phase: 'Failed' } } }, mergePatch);
    expect(ignored.status?.phase).toBe('Running');
  });

  it("writes a Secret's stringData into data on create, update and patch, and never stores it", async () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const created = await h.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'sd' }, data: { a: b64('old'), b: b64('kept') }, stringData: { a: 'new' } } });
    expect(created.data).toEqual({ a: b64('new'), b: b64('kept') });
    expect(created.stringData).toBeUndefined();
    const replaced = await h.core.replaceNamespacedSecret({ namespace: ns, name: 'sd', body: { metadata: { name: 'sd' }, data: created.data, stringData: { c: 'put' } } });
    expect(replaced.data).toEqual({ a: b64('new'), b: b64('kept'), c: b64('put') });
    const patched = await h.core.patchNamespacedSecret({ namespace: ns, name: 'sd', body: { stringData: { b: 'patched' } } }, mergePatch);
    expect(patched.data).toEqual({ a: b64('new'), b: b64('patched'), c: b64('put') });
    const read = await h.core.readNamespacedSecret({ namespace: ns, name: 'sd' });
    expect(read.stringData).toBeUndefined();
    expect(read.data).toEqual(patched.data);
  });

  it('selects by label (all operators) and field, and rejects unknown field labels', async () => {
    const sel = await createNamespace(h.core);
    await h.core.createNamespacedPod({ namespace: sel, body: podBody('a', { tier: 'web', n: '1' }) });
    await h.core.createNamespacedPod({ namespace: sel, body: podBody('b', { tier: 'db', n: '5' }) });
    await h.core.createNamespacedPod({ namespace: sel, body: podBody('c', {}) });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await h.core.listNamespacedPod({ namespace: sel, ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })).items.map((p) => p.metadata?.name).sort();
    expect(await names('tier=web')).toEqual(['a']);
    expect(await names('tier!=web')).toEqual(['b', 'c']);
    expect(await names('tier in (web,db)')).toEqual(['a', 'b']);
    expect(await names('tier notin (web)')).toEqual(['b', 'c']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!tier')).toEqual(['c']);
    expect(await names('n>2')).toEqual(['b']);
    expect(await names(undefined, 'metadata.name=b')).toEqual(['b']);
    expect(await names(undefined, 'status.phase=Pending,metadata.name!=a')).toEqual(['b', 'c']);
    const all = await h.core.listPodForAllNamespaces({ labelSelector: 'tier' });
    expect(all.items.map((p) => p.metadata?.namespace)).toEqual([sel, sel]);
    const unknown = await statusOf(h.core.listNamespacedPod({ namespace: sel, fieldSelector: 'spec.bogus=1' }));
    expect(unknown).toMatchObject({ code: 400, message: 'field label not supported: spec.bogus' });
    const removed = await h.core.deleteCollectionNamespacedPod({ namespace: sel, labelSelector: 'tier=db' });
    expect(removed).toBeDefined();
    expect(await names()).toEqual(['a', 'c']);
  });

  it('generates names from generateName', async () => {
    const pod = await h.core.createNamespacedPod({ namespace: ns, body: { ...podBody(''), metadata: { generateName: 'gen-' } } });
    expect(pod.metadata?.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('defaults jobs (selector, template labels) and bumps generation on spec change', async () => {
    const job = await h.batch.createNamespacedJob({
      namespace: ns,
      body: { metadata: { name: 'job1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
    });
    const uid = job.metadata!.uid!;
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    expect(job.spec?.selector?.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': uid });
    expect(job.spec?.template.metadata?.labels).toMatchObject({ 'controller-uid': uid, 'job-name': 'job1', 'batch.kubernetes.io/job-name': 'job1' });
    expect(job.spec?.template.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(job.metadata?.generation).toBe(1);
    const suspended = await h.batch.patchNamespacedJob({ namespace: ns, name: 'job1', body: { spec: { suspend: true } } }, mergePatch);
    expect(suspended.metadata?.generation).toBe(2);
    const badRestart = await statusOf(
      h.batch.createNamespacedJob({ namespace: ns, body: { metadata: { name: 'job2' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'x' }] } } } } }),
    );
    expect(badRestart.details.causes[0].field).toBe('spec.template.spec.restartPolicy');
  });

  it('defaults PVCs and keeps them Terminating while the protection finalizer is there', async () => {
    const missing = await statusOf(h.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'v0' }, spec: {} } }));
    expect(missing.details.causes.map((c: any) => c.field)).toEqual(['spec.accessModes', 'spec.resources[storage]']);
    const pvc = await h.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: { metadata: { name: 'v1' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    expect(pvc.spec?.storageClassName).toBe('standard');
    expect(pvc.metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const deleted = await h.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: 'v1' });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    await h.core.patchNamespacedPersistentVolumeClaim({ namespace: ns, name: 'v1', body: { metadata: { finalizers: null } } }, mergePatch);
    const gone = await statusOf(h.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'v1' }));
    expect(gone.code).toBe(404);
  });

  it('validates deployments and deletes pods at once when they are not scheduled', async () => {
    const bad = await statusOf(
      h.apps.createNamespacedDeployment({
        namespace: ns,
        body: { metadata: { name: 'd1' }, spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'y' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
      }),
    );
    expect(bad.code).toBe(422);
    const dep = await h.apps.createNamespacedDeployment({
      namespace: ns,
      body: { metadata: { name: 'd1' }, spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
    });
    expect(dep.spec?.replicas).toBe(1);
    expect(dep.spec?.strategy?.type).toBe('RollingUpdate');
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('unscheduled') });
    const removed = await h.core.deleteNamespacedPod({ namespace: ns, name: 'unscheduled' });
    expect(removed.metadata?.name).toBe('unscheduled');
    expect((await statusOf(h.core.readNamespacedPod({ namespace: ns, name: 'unscheduled' }))).code).toBe(404);
  });

  it('validates deployment selectors whole: matchExpressions count, an empty selector is refused', async () => {
    const deployment = (name: string, selector: k8s.V1LabelSelector, labels: Record<string, string>): k8s.V1Deployment => ({
      metadata: { name },
      spec: { selector, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const byExpression = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'canary', operator: 'DoesNotExist' }] };
    const made = await h.apps.createNamespacedDeployment({ namespace: ns, body: deployment('by-expression', byExpression, { tier: 'api' }) });
    expect(made.spec?.selector.matchExpressions).toHaveLength(2);
    const mismatch = await statusOf(h.apps.createNamespacedDeployment({ namespace: ns, body: deployment('mismatch', byExpression, { tier: 'api', canary: 'yes' }) }));
    expect(mismatch).toMatchObject({ code: 422, details: { causes: [{ field: 'spec.template.metadata.labels', message: expect.stringContaining('`selector` does not match template `labels`') }] } });
    const empty = await statusOf(h.apps.createNamespacedDeployment({ namespace: ns, body: deployment('empty', {}, { tier: 'api' }) }));
    expect(empty).toMatchObject({ code: 422, details: { causes: [{ field: 'spec.selector', message: expect.stringContaining('empty selector is invalid for deployment') }] } });
  });

  it('marks a scheduled pod for graceful deletion instead of removing it', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('graceful') });
    h.cluster.store.update('pods', ns, 'graceful', (p) => void (p.spec.nodeName = 'local-node'));
    const marked = await h.core.deleteNamespacedPod({ namespace: ns, name: 'graceful', gracePeriodSeconds: 7 });
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(7);
    expect(marked.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect((await h.core.readNamespacedPod({ namespace: ns, name: 'graceful' })).metadata?.deletionTimestamp).toBeDefined();
    h.cluster.store.remove('pods', ns, 'graceful');
  });

  it('forbids creating in a terminating namespace and removes the namespace once empty', async () => {
    const doomed = await createNamespace(h.core);
    await h.core.createNamespacedConfigMap({ namespace: doomed, body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    // A scheduled pod keeps the namespace Terminating until "the kubelet" (this test) removes it.
    await h.core.createNamespacedPod({ namespace: doomed, body: podBody('held') });
    h.cluster.store.update('pods', doomed, 'held', (p) => void (p.spec.nodeName = 'local-node'));
    const terminating = await h.core.deleteNamespace({ name: doomed });
    expect((terminating as k8s.V1Namespace).status?.phase).toBe('Terminating');
    const forbidden = await statusOf(h.core.createNamespacedConfigMap({ namespace: doomed, body: { metadata: { name: 'cm2' } } }));
    expect(forbidden).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(forbidden.message).toContain(`unable to create new content in namespace ${doomed} because it is being terminated`);
    await eventually(() => h.cluster.store.get('pods', doomed, 'held')?.metadata.deletionTimestamp !== undefined, 15_000, 'the held pod to be marked for deletion');
    expect(h.cluster.store.list('configmaps', doomed)).toEqual([]);
    expect(h.cluster.store.get('namespaces', undefined, doomed)).toBeDefined();
    h.cluster.store.remove('pods', doomed, 'held');
    await eventually(() => h.cluster.store.get('namespaces', undefined, doomed) === undefined, 15_000, 'the namespace to be gone');
    expect((await statusOf(h.core.readNamespace({ name: doomed }))).code).toBe(404);
  });

  it('returns objects that survive client-node ObjectSerializer round trips unchanged', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: { ...podBody('rt'), spec: { ...podBody('rt').spec!, volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'rt' } }] } } });
    await h.core.patchNamespacedPodStatus(
      {
        namespace: ns,
        name: 'rt',
        body: { status: { conditions: [{ type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z', reason: 'ContainersNotReady' }], containerStatuses: [{ name: 'main', image: 'busybox:latest', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }] } },
      },
      mergePatch,
    );
    await h.batch.createNamespacedJob({ namespace: ns, body: { metadata: { name: 'rt' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } });
    const pod = await fetchRaw(`/api/v1/namespaces/${ns}/pods/rt`);
    const job = await fetchRaw(`/apis/batch/v1/namespaces/${ns}/jobs/rt`);
    await h.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'rt' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    const pvc = await fetchRaw(`/api/v1/namespaces/${ns}/persistentvolumeclaims/rt`);
    for (const [raw, type] of [[pod, 'V1Pod'], [job, 'V1Job'], [pvc, 'V1PersistentVolumeClaim']] as const) {
      const roundTrip = ObjectSerializer.serialize(ObjectSerializer.deserialize(raw, type, ''), type, '');
      // client-node writes Dates with milliseconds; the server (like a real one) writes whole seconds.
      const text = JSON.stringify(roundTrip).replace(/(T\d{2}:\d{2}:\d{2})\.000Z/g, '$1Z');
      expect(JSON.parse(text)).toEqual(raw);
    }
  });
});

async function fetchRaw(path: string): Promise<unknown> {
  const opts: { headers?: Record<string, string>; ca?: Buffer } = {};
  await h.kc.applyToHTTPSOptions(opts as never);
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const url = new URL(path, h.cluster.url);
    const req = request(url, { ca: opts.ca, headers: { ...(opts.headers ?? {}), Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end();
  });
}

