import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, mergePatch, podBody, startApiCluster, type ApiHarness } from './helpers.js';
import { eventually } from '../../support/poll.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiCluster();
});
afterAll(async () => h?.stop());

interface Seen {
  type: string;
  name: string;
  rv: string;
  object: any;
}

/** Starts a client-node watch and collects its events until `done`. */
async function watch(path: string, query: Record<string, string | boolean | number>) {
  const events: Seen[] = [];
  let ended: unknown = 'open';
  const controller = await new k8s.Watch(h.kc).watch(
    path,
    query,
    (type, object) => events.push({ type, name: object?.metadata?.name, rv: object?.metadata?.resourceVersion, object }),
    (error) => {
      ended = error ?? null;
    },
  );
  return { events, controller, ended: () => ended };
}

describe('local API server: watch', () => {
  it('sends ADDED for current objects, then changes, and selector enter/leave as ADDED/DELETED', async () => {
    const ns = await createNamespace(h.core);
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('w1', { sel: 'yes' }) });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('w2', { sel: 'no' }) });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'sel=yes' });
    await eventually(() => w.events.length === 1, 15_000, 'one watch event');
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'w1' });
    await h.core.patchNamespacedPod({ namespace: ns, name: 'w2', body: { metadata: { labels: { sel: 'yes' } } } }, mergePatch);
    await h.core.patchNamespacedPod({ namespace: ns, name: 'w1', body: { metadata: { labels: { sel: 'gone' } } } }, mergePatch);
    await h.core.patchNamespacedPod({ namespace: ns, name: 'w2', body: { metadata: { annotations: { a: 'b' } } } }, mergePatch);
    await h.core.deleteNamespacedPod({ namespace: ns, name: 'w2' });
    await eventually(() => w.events.length === 5, 15_000, 'five watch events');
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED w1', 'ADDED w2', 'DELETED w1', 'MODIFIED w2', 'DELETED w2']);
    const rvs = w.events.slice(1).map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    w.controller.abort();
  });

  it('resumes from a resourceVersion with only the later changes', async () => {
    const ns = await createNamespace(h.core);
    const first = await h.core.createNamespacedPod({ namespace: ns, body: podBody('r1') });
    await h.core.createNamespacedPod({ namespace: ns, body: podBody('r2') });
    await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'unrelated' } } });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { resourceVersion: first.metadata!.resourceVersion! });
    await eventually(() => w.events.length >= 1, 15_000, 'a watch event');
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED r2']);
    w.controller.abort();
  });

  it('answers a too old resourceVersion with an ERROR 410 Expired event and ends', async () => {
    await h.cluster.restart(); // history does not survive a restart
    const w = await watch('/api/v1/pods', { resourceVersion: '1' });
    await eventually(() => w.ended() !== 'open', 15_000, 'the watch to end');
    expect(w.events).toHaveLength(1);
    expect(w.events[0]!.type).toBe('ERROR');
    expect(w.events[0]!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(w.events[0]!.object.message).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('sends BOOKMARK events when asked and ends cleanly after timeoutSeconds', async () => {
    const ns = await createNamespace(h.core);
    const started = Date.now();
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { allowWatchBookmarks: true, timeoutSeconds: 1 });
    await eventually(() => w.ended() !== 'open', 15_000, 'the watch to end by its timeout');
    expect(w.ended()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThan(0);
    expect(bookmarks[0]!.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    expect(bookmarks[0]!.rv).toMatch(/^\d+$/);
  });

  it('feeds a client-node informer with a labelSelector through add/update/delete and a cut watch', async () => {
    const ns = await createNamespace(h.core);
    const informer = k8s.makeInformer(h.kc, `/api/v1/namespaces/${ns}/pods`, () => h.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=inf' }), 'app=inf');
    const log: string[] = [];
    informer.on('add', (p) => log.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => log.push(`update ${p.metadata?.name} ${p.metadata?.labels?.step ?? ''}`));
    informer.on('delete', (p) => log.push(`delete ${p.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await h.core.createNamespacedPod({ namespace: ns, body: podBody('i1', { app: 'inf' }) });
      await h.core.createNamespacedPod({ namespace: ns, body: podBody('other', { app: 'other' }) });
      await eventually(() => log.includes('add i1'), 15_000, 'the informer to add i1');
      await h.core.patchNamespacedPod({ namespace: ns, name: 'i1', body: { metadata: { labels: { step: 'two' } } } }, mergePatch);
      await eventually(() => log.includes('update i1 two'), 15_000, 'the informer to update i1');
      expect(h.cluster.faults.cutWatches()).toBeGreaterThan(0);
      await h.core.patchNamespacedPod({ namespace: ns, name: 'i1', body: { metadata: { labels: { step: 'three' } } } }, mergePatch);
      await h.core.createNamespacedPod({ namespace: ns, body: podBody('i2', { app: 'inf' }) });
      await h.core.deleteNamespacedPod({ namespace: ns, name: 'i1' });
      await eventually(() => log.includes('delete i1') && log.includes('add i2'), 15_000, 'the informer to see i1 deleted and i2 added');
      expect(log).toContain('update i1 three');
      expect(log.some((l) => l.includes('other'))).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
