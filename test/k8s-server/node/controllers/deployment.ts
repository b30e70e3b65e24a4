import { createHash } from 'node:crypto';
import type { ClusterContext, KObject, StoreEvent } from '../../api.js';
import { defaultObject } from '../../admission.js';
import { deletePod } from './gc.js';
import { admitControllerPod, controllerOf, isActivePod, later, now } from './shared.js';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod-template-hash: 10 characters from the safe alphabet, stable per template. */
function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template ?? {})).digest();
  return [...digest.subarray(0, 10)].map((b) => SAFE[b % SAFE.length]).join('');
}

const isReady = (pod: KObject) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/**
 * apps/v1 Deployment controller, simplified: pods are owned by the deployment
 * directly (no ReplicaSet), named `<deploy>-<hash>-<5 chars>`; replicas are kept,
 * a template change replaces all pods at once.
 */
export class DeploymentController {
  constructor(private readonly ctx: ClusterContext) {}

  start(): void {
    for (const d of this.ctx.store.list('deployments')) this.reconcile(d.metadata.namespace!, d.metadata.name);
  }

  onEvent(event: StoreEvent): void {
    if (event.resource === 'deployments' && event.type !== 'DELETED') later(() => this.reconcile(event.object.metadata.namespace!, event.object.metadata.name));
    else if (event.resource === 'pods') {
      const owner = controllerOf(event.object);
      if (owner?.kind === 'Deployment') later(() => this.reconcile(event.object.metadata.namespace!, owner.name));
    }
  }

  private reconcile(namespace: string, name: string): void {
    const deploy = this.ctx.store.get('deployments', namespace, name);
    if (!deploy || deploy.metadata.deletionTimestamp) return;
    const hash = templateHash(deploy.spec.template);
    const owned = this.ctx.store.list('pods', namespace).filter((p) => controllerOf(p)?.uid === deploy.metadata.uid);
    const active = owned.filter(isActivePod);
    const current = active.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    for (const pod of active) if (pod.metadata.labels?.['pod-template-hash'] !== hash) deletePod(this.ctx, pod);
    const desired = deploy.spec.replicas ?? 1;
    for (let i = current.length; i < desired; i += 1) this.createPod(deploy, hash);
    // Scale down the newest first, as a ReplicaSet prefers.
    const extra = [...current].sort((a, b) => b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp)).slice(0, Math.max(0, current.length - desired));
    for (const pod of extra) deletePod(this.ctx, pod);
    // Failed pods of a deployment are replaced: remove them so they do not linger.
    for (const pod of owned) if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') deletePod(this.ctx, pod);
    this.writeStatus(deploy, current.filter((p) => !extra.includes(p)), desired);
  }

  private createPod(deploy: KObject, hash: string): void {
    const template = deploy.spec.template ?? {};
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${deploy.metadata.name}-${hash}-`,
        namespace: deploy.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name, uid: deploy.metadata.uid, controller: true, blockOwnerDeletion: true }],
      } as KObject['metadata'],
      spec: structuredClone(template.spec ?? {}),
    };
    defaultObject('pods', pod);
    if (!admitControllerPod(this.ctx, deploy, pod)) return;
    const created = this.ctx.store.create('pods', pod);
    this.ctx.recordEvent(deploy, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  private writeStatus(deploy: KObject, pods: KObject[], desired: number): void {
    const ready = pods.filter(isReady).length;
    const previous = deploy.status ?? {};
    const keep = (type: string, status: string, reason: string, message: string) => {
      const old = (previous.conditions ?? []).find((c: any) => c.type === type);
      if (old && old.status === status && old.reason === reason) return old;
      return { type, status, lastUpdateTime: now(), lastTransitionTime: old?.status === status ? old.lastTransitionTime : now(), reason, message };
    };
    const available = ready >= desired;
    const status: any = {
      observedGeneration: deploy.metadata.generation ?? 1,
      replicas: pods.length,
      updatedReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
      conditions: [
        keep('Available', available ? 'True' : 'False', available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
        keep('Progressing', 'True', available ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', available ? `ReplicaSet "${deploy.metadata.name}" has successfully progressed.` : `ReplicaSet "${deploy.metadata.name}" is progressing.`),
      ],
    };
    for (const key of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas']) if (status[key] === 0) delete status[key];
    if (JSON.stringify(status) === JSON.stringify(previous)) return;
    this.ctx.store.update('deployments', deploy.metadata.namespace, deploy.metadata.name, (d) => {
      if (d.metadata.uid === deploy.metadata.uid) d.status = status;
    });
  }

  stop(): void {}
}
