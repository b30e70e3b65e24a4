import type { V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import { LABELS } from '../../src/labels.js';
import type { K8sContext } from './context.js';
import { namespaceSelector } from './naming.js';

/**
 * What `K8sDriver.detach` leaves: every object of the drivetrain namespace, as it is, with
 * whether Kubernetes removes it by itself. Only a Job with `ttlSecondsAfterFinished` does (the
 * TTL-after-finished controller deletes it once finished, pkg/controller/ttlafterfinished), and
 * with it the pods it owns (the garbage collector deletes a Job's dependents with it); nothing
 * ever removes a bare pod, a sandbox, a Job without a TTL, a volume claim or a pull secret.
 */

/** One object `detach` left. */
export interface LeftObject {
  kind: 'Job' | 'Pod' | 'PersistentVolumeClaim' | 'Secret';
  name: string;
  /** Kubernetes removes it by itself: a Job with `ttlSecondsAfterFinished`, or a pod of one. */
  removedByKubernetes: boolean;
}

/** What {@link K8sDriver.detach} left in the cluster. */
export interface K8sDetachResult {
  /** Every object of the namespace, left as it was; Jobs first, then pods, claims and pull secrets. */
  left: LeftObject[];
}

/** Lists what the namespace holds, each object with whether Kubernetes removes it by itself. */
export async function leftObjects(ctx: K8sContext, signal: AbortSignal): Promise<LeftObject[]> {
  const labelSelector = namespaceSelector(ctx.options.namespace);
  const { made, options } = ctx;
  const [jobs, pods, claims, secrets] = await Promise.all([
    made.listForClose('jobs', async () => (await ctx.call('list jobs', () => ctx.batch.listNamespacedJob({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
    made.listForClose('pods', async () => (await ctx.call('list pods', () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
    made.listForClose('persistentvolumeclaims', async () => (await ctx.call('list volume claims', () => ctx.core.listNamespacedPersistentVolumeClaim({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
    made.listForClose('secrets', async () => (await ctx.call('list pull secrets', () => ctx.core.listNamespacedSecret({ namespace: ctx.ns, labelSelector: `${labelSelector},${LABELS.role}=pull-secret` }), signal)).items, options.logger),
  ]);
  const expiring = new Set(jobs.filter(removedAfterFinishing).map((job) => job.metadata?.uid));
  const ofExpiringJob = (metadata: V1ObjectMeta | undefined): boolean => (metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'Job' && expiring.has(owner.uid));
  return [
    ...jobs.map((job) => ({ kind: 'Job' as const, name: nameOf(job.metadata), removedByKubernetes: removedAfterFinishing(job) })),
    ...pods.map((pod) => ({ kind: 'Pod' as const, name: nameOf(pod.metadata), removedByKubernetes: ofExpiringJob(pod.metadata) })),
    ...claims.map((claim) => ({ kind: 'PersistentVolumeClaim' as const, name: nameOf(claim.metadata), removedByKubernetes: false })),
    ...secrets.map((secret) => ({ kind: 'Secret' as const, name: nameOf(secret.metadata), removedByKubernetes: false })),
  ];
}

function removedAfterFinishing(job: V1Job): boolean {
  return typeof job.spec?.ttlSecondsAfterFinished === 'number';
}

function nameOf(metadata: V1ObjectMeta | undefined): string {
  return metadata?.name ?? '';
}
