import type { ClusterContext, KObject, StoreEvent } from '../../api.js';
import { controllerOf, later } from './shared.js';

const FOREGROUND = 'foregroundDeletion';
const OWNER_RESOURCES: Record<string, string> = { Job: 'jobs', Deployment: 'deployments', ReplicaSet: 'replicasets' };

/** Deletes a pod the way a DELETE request would: gracefully when it runs on the node, at once otherwise. */
export function deletePod(ctx: ClusterContext, pod: KObject): void {
  const { namespace, name } = pod.metadata;
  if (pod.metadata.deletionTimestamp) return;
  const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  if (!pod.spec.nodeName || terminal || grace === 0) {
    ctx.store.remove('pods', namespace, name);
    return;
  }
  ctx.store.update('pods', namespace, name, (p) => {
    if (p.metadata.uid !== pod.metadata.uid || p.metadata.deletionTimestamp) return;
    p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    p.metadata.deletionGracePeriodSeconds = grace;
  });
}

/**
 * Garbage collector: deletes pods whose controller owner is gone (Background
 * propagation), and finishes Foreground deletion of an owner once its pods are gone.
 */
export class GarbageCollector {
  constructor(private readonly ctx: ClusterContext) {}

  start(): void {
    this.sweep();
  }

  onEvent(event: StoreEvent): void {
    const { resource, type, object } = event;
    if (resource === 'pods' && type === 'ADDED' && controllerOf(object)) later(() => this.checkPod(object));
    else if (resource === 'pods' && type === 'DELETED' && controllerOf(object)) later(() => this.sweep());
    else if (Object.values(OWNER_RESOURCES).includes(resource) && (type === 'DELETED' || object.metadata.finalizers?.includes(FOREGROUND))) later(() => this.sweep());
  }

  private ownerExists(pod: KObject): boolean {
    const owner = controllerOf(pod);
    if (!owner) return true;
    const resource = OWNER_RESOURCES[owner.kind];
    if (!resource) return true;
    const current = this.ctx.store.get(resource, pod.metadata.namespace, owner.name);
    return current?.metadata.uid === owner.uid;
  }

  private checkPod(pod: KObject): void {
    const current = this.ctx.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (current && current.metadata.uid === pod.metadata.uid && !this.ownerExists(current)) deletePod(this.ctx, current);
  }

  private sweep(): void {
    const pods = this.ctx.store.list('pods');
    for (const pod of pods) if (controllerOf(pod) && !this.ownerExists(pod)) deletePod(this.ctx, pod);
    for (const resource of Object.values(OWNER_RESOURCES)) {
      let owners: KObject[];
      try {
        owners = this.ctx.store.list(resource);
      } catch {
        continue;
      }
      for (const owner of owners) {
        if (!owner.metadata.deletionTimestamp || !owner.metadata.finalizers?.includes(FOREGROUND)) continue;
        const dependents = pods.filter((p) => controllerOf(p)?.uid === owner.metadata.uid && this.ctx.store.get('pods', p.metadata.namespace, p.metadata.name));
        for (const pod of dependents) deletePod(this.ctx, pod);
        const left = this.ctx.store.list('pods', owner.metadata.namespace).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
        if (left.length === 0) {
          this.ctx.store.update(resource, owner.metadata.namespace, owner.metadata.name, (o) => {
            o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND);
          });
        }
      }
    }
  }

  stop(): void {}
}
