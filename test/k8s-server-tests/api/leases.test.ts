import * as https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectlIn, startApiCluster, statusOf, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

// coordination.k8s.io/v1 Leases as kube-apiserver serves them (pkg/registry/coordination/lease,
// pkg/apis/coordination/validation), proven with client-node's typed client and kubectl.
let h: ApiHarness;
let leases: k8s.CoordinationV1Api;
let cacheDir: string;
let ns: string;

beforeAll(async () => {
  h = await startApiCluster();
  leases = h.kc.makeApiClient(k8s.CoordinationV1Api);
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  ns = await createNamespace(h.core);
});
afterAll(async () => {
  await h?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

const kubectl = (...args: string[]): Promise<string> => kubectlIn(h, cacheDir, ns)(...args);

function lease(name: string, spec: Record<string, unknown> = {}): k8s.V1Lease {
  return { metadata: { name, labels: { app: 'lease-test' } }, spec: { holderIdentity: 'host-a/boot/42/7', leaseDurationSeconds: 15, ...spec } };
}

describe('local API server: coordination.k8s.io/v1 Leases', () => {
  it('discovery lists the group and the resource with every verb', async () => {
    const groups = JSON.parse(await kubectl('get', '--raw', '/apis'));
    expect(groups.groups.map((group: { name: string }) => group.name)).toContain('coordination.k8s.io');
    const resources = JSON.parse(await kubectl('get', '--raw', '/apis/coordination.k8s.io/v1'));
    expect(resources.resources).toEqual([expect.objectContaining({ name: 'leases', singularName: 'lease', namespaced: true, kind: 'Lease', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] })]);
    expect(await kubectl('api-resources', '--api-group', 'coordination.k8s.io')).toMatch(/leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
  });

  it('create, get, update with resourceVersion (409 on a stale one), delete; MicroTimes in UTC with six digits', async () => {
    const created = await leases.createNamespacedLease({ namespace: ns, body: lease('crud', { acquireTime: new k8s.V1MicroTime('2026-01-02T03:04:05.123Z'), renewTime: new k8s.V1MicroTime('2026-01-02T03:04:05.123Z') }) });
    expect(created.metadata?.resourceVersion).toBeTruthy();
    const raw = JSON.parse(await kubectl('get', 'lease', 'crud', '-o', 'json'));
    expect(raw.spec).toEqual({ holderIdentity: 'host-a/boot/42/7', leaseDurationSeconds: 15, acquireTime: '2026-01-02T03:04:05.123000Z', renewTime: '2026-01-02T03:04:05.123000Z' });
    const renewed = await leases.replaceNamespacedLease({ namespace: ns, name: 'crud', body: { ...created, spec: { ...created.spec, renewTime: new k8s.V1MicroTime('2026-01-02T03:04:20.000Z') } } });
    expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
    // A write from the old resourceVersion lost the race: 409, as optimistic concurrency answers.
    const stale = await statusOf(leases.replaceNamespacedLease({ namespace: ns, name: 'crud', body: created }));
    expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });
    const deleted = await statusOf(leases.deleteNamespacedLease({ namespace: ns, name: 'crud', body: { preconditions: { resourceVersion: created.metadata?.resourceVersion } } }));
    expect(deleted).toMatchObject({ code: 409 });
    await leases.deleteNamespacedLease({ namespace: ns, name: 'crud', body: { preconditions: { resourceVersion: renewed.metadata?.resourceVersion } } });
    expect(await statusOf(leases.readNamespacedLease({ namespace: ns, name: 'crud' }))).toMatchObject({ code: 404, reason: 'NotFound', details: { group: 'coordination.k8s.io', kind: 'leases' } });
  });

  it('a MicroTime without six fractional digits fails decoding (400), as Date#toISOString writes it', async () => {
    const response = await fetchJson('POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'millis' }, spec: { renewTime: '2026-08-11T19:37:19.103Z' } });
    expect(response).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-08-11T19:37:19.103Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".103Z" as ".000000"',
    });
    await leases.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'offset' }, spec: { renewTime: '2026-08-11T21:37:19.103456+02:00' as never } } });
    expect(JSON.parse(await kubectl('get', 'lease', 'offset', '-o', 'json')).spec.renewTime).toBe('2026-08-11T19:37:19.103456Z');
  });

  it('validation: ValidateLeaseSpec causes, name a DNS subdomain', async () => {
    const invalid = await statusOf(leases.createNamespacedLease({ namespace: ns, body: lease('bad', { leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: 'b' }) }));
    expect(invalid).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'Lease', group: 'coordination.k8s.io', name: 'bad' } });
    expect(invalid.details.causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'spec.leaseDurationSeconds' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.leaseTransitions' },
      { reason: 'FieldValueForbidden', message: 'Forbidden: may only be specified if `strategy` is defined', field: 'spec.preferredHolder' },
    ]);
    expect(await statusOf(leases.createNamespacedLease({ namespace: ns, body: lease('Not_A_Name') }))).toMatchObject({ code: 422, details: { causes: [expect.objectContaining({ field: 'metadata.name' })] } });
    // A dotted name is a DNS subdomain: allowed, as the kubelet's node leases are named after nodes.
    await leases.createNamespacedLease({ namespace: ns, body: lease('node.example.com') });
  });

  it('list with a label selector, and a watch from the list resourceVersion sees a renewal and the deletion', async () => {
    await leases.createNamespacedLease({ namespace: ns, body: lease('watched') });
    const list = await leases.listNamespacedLease({ namespace: ns, labelSelector: 'app=lease-test' });
    expect(list.items.map((item) => item.metadata?.name)).toContain('watched');
    const events: Array<{ type: string; name: string; renewTime: unknown }> = [];
    const controller = await new k8s.Watch(h.kc).watch(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { resourceVersion: list.metadata?.resourceVersion ?? '', labelSelector: 'app=lease-test' }, (type, object: k8s.V1Lease) => {
      events.push({ type, name: object.metadata?.name ?? '', renewTime: object.spec?.renewTime });
    }, () => {});
    try {
      const current = await leases.readNamespacedLease({ namespace: ns, name: 'watched' });
      await leases.replaceNamespacedLease({ namespace: ns, name: 'watched', body: { ...current, spec: { ...current.spec, renewTime: new k8s.V1MicroTime('2026-03-04T05:06:07.000Z') } } });
      await leases.deleteNamespacedLease({ namespace: ns, name: 'watched' });
      await eventually(() => events.some((event) => event.type === 'DELETED' && event.name === 'watched'), 10_000, 'the DELETED event');
      const modified = events.find((event) => event.type === 'MODIFIED' && event.name === 'watched');
      expect(modified?.renewTime).toBe('2026-03-04T05:06:07.000000Z');
    } finally {
      controller.abort();
    }
  });

  it('kubectl get leases and kubectl describe lease', async () => {
    await leases.createNamespacedLease({ namespace: ns, body: lease('shown', { renewTime: new k8s.V1MicroTime('2026-05-06T07:08:09.000Z'), leaseTransitions: 2 }) });
    const table = await kubectl('get', 'leases');
    expect(table).toMatch(/^NAME\s+HOLDER\s+AGE\n/);
    expect(table).toMatch(/shown\s+host-a\/boot\/42\/7\s+\d+s/);
    const described = await kubectl('describe', 'lease', 'shown');
    expect(described).toMatch(/Name:\s+shown/);
    expect(described).toMatch(/Holder Identity:\s+host-a\/boot\/42\/7/);
    expect(described).toMatch(/Lease Duration Seconds:\s+15/);
    expect(described).toMatch(/Renew Time:\s+2026-05-06T07:08:09\.000000Z/);
  });
});

/** A raw JSON request with the kubeconfig's credentials (client-node's serializer would fix the time); resolves with the parsed body. */
async function fetchJson(method: string, path: string, body: unknown): Promise<any> {
  const server = new URL(h.kc.getCurrentCluster()?.server ?? '');
  const options: https.RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers: { 'content-type': 'application/json' } };
  await h.kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const request = https.request(options, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(JSON.parse(text)));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}
