import { randomBytes } from 'node:crypto';
import type { ClusterContext, KObject } from './api.js';
import type { Store } from './store/store.js';

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Events whose last occurrence the recorder remembers, as client-go's event correlator does
 * (tools/record/events_cache.go: `maxLruCacheEntries`, the size of `eventLogger`'s LRU).
 */
const REMEMBERED_EVENTS = 4096;

/**
 * `ctx.recordEvent`: a core/v1 Event about `involved`; the same reason and message
 * on the same object bumps `count` and `lastTimestamp` instead of adding another.
 *
 * Which stored Event an occurrence bumps is remembered by the recorder, as a kubelet's event
 * recorder does: client-go's `eventLogger.eventObserve` (tools/record/events_cache.go) keeps
 * the name of each event's first occurrence in an LRU keyed by the event's identity (object,
 * type, reason, message) and patches that Event; when the Event is gone it creates a new one
 * (tools/record/event.go `recordEvent`: a failed patch with NotFound falls back to create).
 * So recording costs the same whatever the number of Events in the namespace; a search of
 * the namespace's Events would cost every Event stored, for every occurrence.
 */
export function eventRecorder(store: () => Store): ClusterContext['recordEvent'] {
  /** Event name by identity, oldest first (a Map keeps insertion order: a hit is re-inserted). */
  const lastSeen = new Map<string, string>();
  const remember = (key: string, name: string): void => {
    lastSeen.delete(key);
    lastSeen.set(key, name);
    if (lastSeen.size > REMEMBERED_EVENTS) lastSeen.delete(lastSeen.keys().next().value as string);
  };
  return (involved: KObject, type, reason, message) => {
    const namespace = involved.metadata.namespace ?? 'default';
    // A missing or terminating namespace refuses new content, events included.
    const ns = store().get('namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const key = JSON.stringify([namespace, involved.metadata.uid, type, reason, message]);
    const known = lastSeen.get(key);
    const stamp = now();
    if (known !== undefined) {
      const bumped: any = store().update('events', namespace, known, (e: any) => {
        // Another Event took the name meanwhile (it was deleted and made again): leave it be.
        if (e.involvedObject?.uid !== involved.metadata.uid || e.reason !== reason || e.message !== message) return;
        e.count = (e.count ?? 1) + 1;
        e.lastTimestamp = stamp;
      });
      if (bumped?.involvedObject?.uid === involved.metadata.uid && bumped.reason === reason && bumped.message === message) {
        remember(key, known);
        return;
      }
    }
    const created = store().create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString('hex')}`, namespace } as unknown as KObject['metadata'],
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        namespace,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: 'local-node' },
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: 'local-node',
    });
    remember(key, created.metadata.name);
  };
}
