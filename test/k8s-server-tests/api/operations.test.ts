import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, podBody, startApiCluster, statusOf, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiCluster();
});
afterAll(async () => h?.stop());

/** A raw HTTPS call to the server (status, headers and body text), trusting its CA. */
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ code: number; headers: Record<string, unknown>; text: string }> {
  const opts: { ca?: Buffer; headers?: Record<string, string> } = {};
  await h.kc.applyToHTTPSOptions(opts as never);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, h.cluster.url), { method, ca: opts.ca, headers: { ...(opts.headers ?? {}), 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('local API server: restart, faults, metrics, discovery, tables', () => {
  it('keeps objects and continues resourceVersions across a restart on the same port', async () => {
    const ns = await createNamespace(h.core);
    const pod = await h.core.createNamespacedPod({ namespace: ns, body: podBody('kept', { k: 'v' }) });
    const url = h.cluster.url;
    await h.cluster.restart();
    expect(h.cluster.url).toBe(url);
    const again = await h.core.readNamespacedPod({ namespace: ns, name: 'kept' });
    expect(again.metadata?.uid).toBe(pod.metadata?.uid);
    expect(again.metadata?.resourceVersion).toBe(pod.metadata?.resourceVersion);
    const next = await h.core.createNamespacedPod({ namespace: ns, body: podBody('after') });
    expect(Number(next.metadata?.resourceVersion)).toBeGreaterThan(Number(pod.metadata?.resourceVersion));
  });

  it('injects 429 with Retry-After, 500 and dropped connections, only where the filter matches', async () => {
    const ns = await createNamespace(h.core);
    try {
      h.cluster.faults.set({ rate: 1, kind: '429', retryAfterSeconds: 3, match: (method, path) => method === 'GET' && path.endsWith('/configmaps') });
      const limited = await raw('GET', `/api/v1/namespaces/${ns}/configmaps`);
      expect(limited.code).toBe(429);
      expect(limited.headers['retry-after']).toBe('3');
      expect(JSON.parse(limited.text)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', details: { retryAfterSeconds: 3 } });
      expect((await raw('GET', `/api/v1/namespaces/${ns}/secrets`)).code).toBe(200);

      h.cluster.faults.set({ rate: 1, kind: '500' });
      expect(await statusOf(h.core.listNamespacedPod({ namespace: ns }))).toMatchObject({ code: 500, reason: 'InternalError' });

      h.cluster.faults.set({ rate: 1, kind: 'drop' });
      await expect(raw('GET', `/api/v1/namespaces/${ns}/pods`)).rejects.toThrow(/socket hang up|ECONNRESET/);

      h.cluster.faults.clear();
      // Over HTTP too, as a separate process would drive it.
      const set = await raw('POST', '/debug/faults', { rate: 1, kind: '500', pathPattern: '/secrets$', methods: ['GET'] });
      expect(JSON.parse(set.text)).toMatchObject({ active: true, kind: '500' });
      expect((await raw('GET', `/api/v1/namespaces/${ns}/secrets`)).code).toBe(500);
      expect((await raw('GET', `/api/v1/namespaces/${ns}/configmaps`)).code).toBe(200);
      await raw('DELETE', '/debug/faults');
      expect((await raw('GET', `/api/v1/namespaces/${ns}/secrets`)).code).toBe(200);

      h.cluster.faults.delayMs = 150;
      const started = Date.now();
      await h.core.listNamespacedPod({ namespace: ns });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      h.cluster.faults.clear();
    }
  });

  it('counts requests by verb, resource and subresource, as Prometheus text, and resets', async () => {
    const ns = await createNamespace(h.core);
    h.cluster.metrics.reset();
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('m') });
    await h.core.readNamespacedPod({ namespace: ns, name: 'm' });
    await h.core.readNamespacedPod({ namespace: ns, name: 'm' });
    await h.core.listNamespacedPod({ namespace: ns });
    await h.core.readNamespacedPodStatus({ namespace: ns, name: 'm' });
    await h.core.deleteNamespacedPod({ namespace: ns, name: 'm' });
    const m = h.cluster.metrics;
    expect([m.count('create', 'pods'), m.count('get', 'pods'), m.count('list', 'pods'), m.count('get', 'pods', 'status'), m.count('delete', 'pods')]).toEqual([1, 2, 1, 1, 1]);
    const text = (await raw('GET', '/metrics')).text;
    expect(text).toContain('apiserver_request_total{verb="get",resource="pods",subresource=""} 2');
    await raw('DELETE', '/metrics');
    expect(m.snapshot()).toEqual([]);
  });

  it('serves discovery, health and Tables for kubectl', async () => {
    expect((await raw('GET', '/healthz')).text).toBe('ok');
    const v1 = JSON.parse((await raw('GET', '/api/v1')).text);
    const pods = v1.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'] });
    expect(v1.resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['pods/log', 'pods/exec', 'pods/attach', 'pods/status', 'persistentvolumeclaims', 'namespaces', 'events']));
    const groups = JSON.parse((await raw('GET', '/apis')).text);
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['batch', 'apps']));
    const batch = JSON.parse((await raw('GET', '/apis/batch/v1')).text);
    expect(batch.resources.map((r: any) => r.name)).toEqual(['jobs', 'jobs/status']);

    const ns = await createNamespace(h.core);
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('t') });
    h.cluster.store.update('pods', ns, 't', (p) => {
      p.status.containerStatuses = [{ name: 'main', ready: false, restartCount: 2, state: { waiting: { reason: 'ErrImagePull' } } }];
    });
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const table = JSON.parse((await raw('GET', `/api/v1/namespaces/${ns}/pods`, undefined, { Accept: accept })).text);
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: any) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['t', '0/1', 'ErrImagePull', 2]);
    expect(table.rows[0].object.kind).toBe('PartialObjectMetadata');
    const full = JSON.parse((await raw('GET', `/api/v1/namespaces/${ns}/pods/t?includeObject=Object`, undefined, { Accept: accept })).text);
    expect(full.rows[0].object.kind).toBe('Pod');
  });

  it('rejects malformed JSON and kind mismatches with 400', async () => {
    const ns = await createNamespace(h.core);
    const opts: Record<string, string> = {};
    const bad = await raw('POST', `/api/v1/namespaces/${ns}/pods`, undefined, opts);
    expect([400, 422]).toContain(bad.code);
    const mismatch = await raw('POST', `/api/v1/namespaces/${ns}/pods`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
    expect(JSON.parse(mismatch.text)).toMatchObject({ code: 400, reason: 'BadRequest' });
    const garbage = await new Promise<number>((resolve, reject) => {
      void (async () => {
        const o: { ca?: Buffer; headers?: Record<string, string> } = {};
        await h.kc.applyToHTTPSOptions(o as never);
        const req = request(new URL(`/api/v1/namespaces/${ns}/pods`, h.cluster.url), { method: 'POST', ca: o.ca, headers: { ...o.headers, 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{not json');
      })();
    });
    expect(garbage).toBe(400);
  });

  it('is driven from another process through the plain-HTTP control endpoint', async () => {
    const { startControlServer } = await import('../../k8s-server/control.js');
    const control = await startControlServer(h.cluster);
    try {
      const ns = await createNamespace(h.core);
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${control.url}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}) });
        return { status: response.status, body: await response.json() };
      };
      expect((await call('POST', '/faults', { rate: 1, kind: '429', pathPattern: `/namespaces/${ns}/secrets$` })).body).toMatchObject({ active: true });
      expect((await statusOf(h.core.listNamespacedSecret({ namespace: ns }))).code).toBe(429);
      await call('DELETE', '/faults');
      await h.core.listNamespacedSecret({ namespace: ns });
      const metrics = (await call('GET', '/metrics')).body as Array<{ verb: string; resource: string; count: number }>;
      expect(metrics.find((m) => m.verb === 'list' && m.resource === 'secrets')?.count).toBeGreaterThan(0);
      await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'survives' } } });
      expect((await call('POST', '/restart')).body).toEqual({ restarted: true });
      expect((await h.core.readNamespacedConfigMap({ namespace: ns, name: 'survives' })).metadata?.name).toBe('survives');
    } finally {
      await control.close();
    }
  });

  it('applies faults to exec/attach upgrades and refuses SPDY-style POSTs with a Status', async () => {
    const ns = await createNamespace(h.core);
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('ex') });
    const { default: WebSocket } = await import('ws');
    const opts: { ca?: Buffer; headers?: Record<string, string> } = {};
    await h.kc.applyToHTTPSOptions(opts as never);
    const path = `/api/v1/namespaces/${ns}/pods/ex/exec?command=true&stdout=true`;
    h.cluster.faults.set({ rate: 1, kind: '429', retryAfterSeconds: 2, match: (_m, p) => p.endsWith('/exec') });
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${h.cluster.url.replace('https', 'wss')}${path}`, ['v5.channel.k8s.io'], { ca: opts.ca, headers: opts.headers });
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('open', () => reject(new Error('upgrade should have been refused')));
        socket.on('error', () => {});
      });
      expect(code).toBe(429);
    } finally {
      h.cluster.faults.clear();
    }
    const spdy = await raw('POST', path);
    expect(JSON.parse(spdy.text)).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'Upgrade request required' });
  });
});
