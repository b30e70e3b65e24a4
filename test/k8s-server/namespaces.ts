import { DEFAULT_STORAGE_CLASS, WAIT_STORAGE_CLASS } from './admission.js';
import type { KObject } from './api.js';
import { RESOURCES } from './resources.js';
import type { Store } from './store/store.js';

/**
 * The namespace lifecycle: built-in namespaces exist from the start, and a namespace
 * marked for deletion has its content deleted (pods gracefully, through the node)
 * and disappears once empty.
 */

const BUILT_IN = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Built-in namespaces, the default StorageClass `standard` (Immediate) and `wait-for-first-consumer`. */
export function ensureBuiltInNamespaces(store: Store): void {
  const classes = [
    { name: DEFAULT_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' }, volumeBindingMode: 'Immediate' },
    { name: WAIT_STORAGE_CLASS, annotations: {}, volumeBindingMode: 'WaitForFirstConsumer' },
  ];
  for (const { name, annotations, volumeBindingMode } of classes) {
    if (store.get('storageclasses', undefined, name)) continue;
    store.create('storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name, ...(Object.keys(annotations).length ? { annotations } : {}) } as unknown as KObject['metadata'],
      provisioner: 'drivetrain.dev/local-docker-volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode,
      allowVolumeExpansion: true,
    });
  }
  for (const name of BUILT_IN) {
    if (store.get('namespaces', undefined, name)) continue;
    store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } as unknown as KObject['metadata'],
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One sweep over terminating namespaces; returns whether any is left. */
function sweep(store: Store): boolean {
  let pending = false;
  for (const ns of store.list('namespaces')) {
    if (!ns.metadata.deletionTimestamp) continue;
    pending = true;
    let left = 0;
    for (const info of RESOURCES) {
      if (!info.namespaced) continue;
      for (const object of store.list(info.plural, ns.metadata.name)) {
        left++;
        if (object.metadata.deletionTimestamp) continue;
        if (info.plural === 'pods' && object.spec?.nodeName && !['Succeeded', 'Failed'].includes(object.status?.phase)) {
          store.update('pods', ns.metadata.name, object.metadata.name, (p) => {
            p.metadata.deletionTimestamp = stamp();
            p.metadata.deletionGracePeriodSeconds = Math.min(p.spec?.terminationGracePeriodSeconds ?? 30, 2);
          });
        } else if (object.metadata.finalizers?.length && info.plural !== 'pods') {
          store.update(info.plural, ns.metadata.name, object.metadata.name, (o) => {
            o.metadata.deletionTimestamp = stamp();
            o.metadata.deletionGracePeriodSeconds = 0;
            // Nothing else will consume these: namespace deletion lets them go.
            if (info.plural === 'jobs') o.metadata.finalizers = o.metadata.finalizers?.filter((f) => f !== 'foregroundDeletion');
          });
        } else {
          store.remove(info.plural, ns.metadata.name, object.metadata.name);
        }
      }
    }
    if (store.list('pods', ns.metadata.name).length === 0) {
      for (const pvc of store.list('persistentvolumeclaims', ns.metadata.name)) {
        if (pvc.metadata.deletionTimestamp) store.update('persistentvolumeclaims', ns.metadata.name, pvc.metadata.name, (o) => void (o.metadata.finalizers = []));
      }
    }
    if (left === 0) store.remove('namespaces', undefined, ns.metadata.name);
  }
  return pending;
}

/** Starts the namespace controller; returns its stop function. */
export function startNamespaceController(store: Store, intervalMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    try {
      sweep(store);
    } finally {
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    }
  };
  const unsubscribe = store.subscribe((event) => {
    // Never write from inside a store listener: other listeners would see events out of order.
    if (event.resource === 'namespaces' && event.object.metadata.deletionTimestamp) setImmediate(() => sweep(store));
  });
  timer = setTimeout(tick, intervalMs);
  timer.unref();
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
