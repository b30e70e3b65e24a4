import { randomBytes } from 'node:crypto';
import type { ClusterContext, KObject } from './api.js';
import type { Store } from './store/store.js';

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `ctx.recordEvent`: a core/v1 Event about `involved`; the same reason and message
 * on the same object bumps `count` and `lastTimestamp` instead of adding another.
 */
export function eventRecorder(store: () => Store): ClusterContext['recordEvent'] {
  return (involved: KObject, type, reason, message) => {
    const namespace = involved.metadata.namespace ?? 'default';
    // A missing or terminating namespace refuses new content, events included.
    const ns = store().get('namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const existing = store()
      .list('events', namespace)
      .find((e: any) => e.involvedObject?.uid === involved.metadata.uid && e.reason === reason && e.message === message);
    const stamp = now();
    if (existing) {
      store().update('events', namespace, existing.metadata.name, (e: any) => {
        e.count = (e.count ?? 1) + 1;
        e.lastTimestamp = stamp;
      });
      return;
    }
    store().create('events', {
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
  };
}
