import type { ClusterContext, KObject, StoreEvent } from '../../api.js';
import { NODE_LABELS, instanceLabels } from '../kubelet/labels.js';
import { claimVolumeName, makeWorldWritable } from '../kubelet/volumes.js';
import { parseQuantity } from '../kubelet/quantity.js';
import { isActivePod, later, Timers } from './shared.js';

const PROTECTION = 'kubernetes.io/pvc-protection';
const PROVISIONER = 'drivetrain.dev/local-docker-volume';

/** The node the scheduler chose for a claim of a WaitForFirstConsumer class (volume.kubernetes.io/selected-node). */
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Whether a claim waits for its first consumer: its class binds WaitForFirstConsumer and no node was chosen yet. */
export function waitsForConsumer(ctx: ClusterContext, claim: KObject): boolean {
  const storageClass = ctx.store.get('storageclasses', undefined, claim.spec?.storageClassName ?? '');
  return storageClass?.volumeBindingMode === 'WaitForFirstConsumer' && !claim.metadata.annotations?.[SELECTED_NODE] && claim.status?.phase !== 'Bound';
}

/**
 * Binds claims to Docker volumes: at once for an Immediate class; for a
 * WaitForFirstConsumer class only once the scheduler annotated the node of the first
 * pod using it (pkg/controller/volume/persistentvolume/pv_controller.go
 * `syncUnboundClaim`, `shouldDelayBinding`). Lifts pvc-protection when no running pod
 * uses a deleted claim; the claim's volume is removed with it.
 */
export class PvcController {
  /** Docker volumes of deleted claims still held by a pod's containers: removed once those go. */
  private readonly pendingRemoval = new Set<string>();
  private readonly timers = new Timers();

  constructor(private readonly ctx: ClusterContext) {}

  private removeVolume(volume: string, attempt = 0): void {
    this.pendingRemoval.add(volume);
    void this.ctx.docker
      .getVolume(volume)
      .remove()
      .then(
        () => this.pendingRemoval.delete(volume),
        (error: { statusCode?: number }) => {
          if (error.statusCode === 404) return this.pendingRemoval.delete(volume);
          // In use (409): containers of pods that mount it are being removed; try a few more times.
          if (attempt < 4) this.timers.set(`volume/${volume}`, 250 * 3 ** attempt, () => this.removeVolume(volume, attempt + 1));
          return undefined;
        },
      );
  }

  start(): void {
    for (const claim of this.ctx.store.list('persistentvolumeclaims')) this.reconcile(claim);
  }

  onEvent(event: StoreEvent): void {
    if (event.resource === 'persistentvolumeclaims') {
      if (event.type === 'DELETED') later(() => this.removeVolume(claimVolumeName(event.object)));
      else later(() => this.reconcile(event.object));
    } else if (event.resource === 'pods' && (event.type === 'DELETED' || !isActivePod(event.object))) {
      const ns = event.object.metadata.namespace;
      if (event.type === 'DELETED') for (const volume of this.pendingRemoval) this.timers.set(`volume/${volume}`, 250, () => this.removeVolume(volume));
      later(() => {
        for (const claim of this.ctx.store.list('persistentvolumeclaims', ns)) if (claim.metadata.deletionTimestamp) this.reconcile(claim);
      });
    }
  }

  private claimInUse(claim: KObject): boolean {
    const uses = (pod: Readonly<KObject>): boolean =>
      pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && (pod.spec?.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === claim.metadata.name);
    // Only the pods that use it are copied out of the store, not every pod of the namespace.
    return this.ctx.store.list('pods', claim.metadata.namespace, undefined, uses).length > 0;
  }

  private reconcile(claim: KObject): void {
    const { namespace, name } = claim.metadata;
    if (claim.metadata.deletionTimestamp) {
      if (claim.metadata.finalizers?.includes(PROTECTION) && !this.claimInUse(claim)) {
        this.ctx.store.update('persistentvolumeclaims', namespace, name, (c) => {
          c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((f) => f !== PROTECTION);
        });
      }
      return;
    }
    if (claim.status?.phase === 'Bound') return;
    if (waitsForConsumer(this.ctx, claim)) {
      // pv_controller.go emitEventForUnboundDelayBindingClaim.
      this.ctx.recordEvent(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    if (claim.metadata.annotations?.[SELECTED_NODE]) {
      // The external provisioner's events (sig-storage-lib-external-provisioner controller.go provisionClaimOperation).
      this.ctx.recordEvent(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${name}"`);
    }
    const volume = claimVolumeName(claim);
    void this.ctx.docker
      .createVolume({
        Name: volume,
        Labels: { ...instanceLabels(this.ctx), [NODE_LABELS.namespace]: namespace ?? 'default', [NODE_LABELS.claim]: name },
        ...this.driverOptions(claim),
      })
      .then(() => makeWorldWritable(this.ctx, volume))
      .then(() => {
        const bound = this.ctx.store.update('persistentvolumeclaims', namespace, name, (c) => {
          if (c.metadata.uid !== claim.metadata.uid || c.status?.phase === 'Bound') return;
          c.spec.volumeName = `pvc-${c.metadata.uid}`;
          c.metadata.annotations = {
            ...(c.metadata.annotations ?? {}),
            'pv.kubernetes.io/bind-completed': 'yes',
            'pv.kubernetes.io/bound-by-controller': 'yes',
            'volume.beta.kubernetes.io/storage-provisioner': PROVISIONER,
            'volume.kubernetes.io/storage-provisioner': PROVISIONER,
          };
          c.status = {
            phase: 'Bound',
            accessModes: c.spec.accessModes ?? ['ReadWriteOnce'],
            capacity: { storage: c.spec.resources?.requests?.storage ?? '1Gi' },
          };
        });
        if (bound) this.ctx.recordEvent(bound, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume pvc-${bound.metadata.uid}`);
      })
      .catch((error: Error) => this.ctx.recordEvent(claim, 'Warning', 'ProvisioningFailed', error.message));
  }

  /**
   * How this provisioner makes a claim's Docker volume. StorageClass `parameters` belong to
   * the provisioner (storage.k8s.io/v1 StorageClass: "parameters holds the parameters for the
   * provisioner that should create volumes of this storage class"); this one reads `medium`:
   * `Memory` backs the claim with a tmpfs of exactly its requested storage (as emptyDir's
   * `medium: Memory`), so that a volume can really be full. Docker keeps a tmpfs volume's
   * content only while some container mounts it.
   */
  private driverOptions(claim: KObject): { DriverOpts?: Record<string, string> } {
    const storageClass = this.ctx.store.get('storageclasses', undefined, claim.spec?.storageClassName ?? '');
    if ((storageClass?.parameters as { medium?: string } | undefined)?.medium !== 'Memory') return {};
    const bytes = parseQuantity(claim.spec?.resources?.requests?.storage);
    return { DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: bytes === undefined ? 'mode=1777' : `size=${Math.ceil(bytes)},mode=1777` } };
  }

  stop(): void {
    this.timers.clear();
  }
}
