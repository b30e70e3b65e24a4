import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { ConflictError } from '../../src/errors.js';
import { validateSizeBytes } from '../../src/kit/volumes.js';
import { LABELS } from '../../src/labels.js';
import type { OperationOptions, Volume } from '../../src/types.js';
import { validateVolumeName } from '../../src/validate.js';
import { isAlreadyExists, isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';
import { claimName, objectLabels, toLabelValue } from './naming.js';
import { bytesToQuantity, quantityToBytes } from './quantity.js';

/**
 * Volumes are PersistentVolumeClaims, one per drivetrain volume, labelled with the
 * drivetrain namespace; their data is copied in and out by volume-copy.ts.
 */

/** The claim object of a volume. */
export function buildClaim(ctx: Pick<K8sContext, 'options' | 'ns'>, name: string, sizeBytes: number): V1PersistentVolumeClaim {
  const { options } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(options.namespace, name),
      namespace: ctx.ns,
      labels: { ...options.labels, ...objectLabels(options.namespace, 'volume', { volume: name }) },
      annotations: { ...options.annotations, [LABELS.volume]: name },
    },
    spec: {
      accessModes: [options.accessMode],
      resources: { requests: { storage: bytesToQuantity(sizeBytes) } },
      ...(options.storageClassName === undefined ? {} : { storageClassName: options.storageClassName }),
    },
  };
}

/** The claim `ensureVolume` creates for volume `name`: `sizeBytes`, else the driver's `defaultVolumeSizeBytes`. */
export function volumeClaim(ctx: Pick<K8sContext, 'options' | 'ns'>, name: string, sizeBytes?: number): V1PersistentVolumeClaim {
  validateVolumeName(name, 'name');
  return buildClaim(ctx, name, validateSizeBytes(sizeBytes) ?? ctx.options.defaultVolumeSizeBytes);
}

/** Creates the volume's claim, or returns the existing one (of this namespace and name). */
export async function ensureVolume(ctx: K8sContext, name: string, sizeBytes: number | undefined, signal?: AbortSignal): Promise<Volume> {
  const claim = volumeClaim(ctx, name, sizeBytes);
  const claimNameValue = claim.metadata?.name as string;
  let stored: V1PersistentVolumeClaim;
  // Made or found: either way this driver works with the claim, and its close removes it.
  ctx.made.note('persistentvolumeclaims');
  try {
    stored = await ctx.call(`create volume claim "${claimNameValue}"`, () => ctx.core.createNamespacedPersistentVolumeClaim({ namespace: ctx.ns, body: claim }), signal);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    stored = await ctx.call(`get volume claim "${claimNameValue}"`, () => ctx.core.readNamespacedPersistentVolumeClaim({ name: claimNameValue, namespace: ctx.ns }), signal);
    const labels = stored.metadata?.labels ?? {};
    if (labels[LABELS.namespace] !== toLabelValue(ctx.options.namespace) || stored.metadata?.annotations?.[LABELS.volume] !== name) {
      throw new ConflictError(`volume claim "${claimNameValue}" exists but belongs to another drivetrain namespace or volume`);
    }
  }
  const requested = stored.spec?.resources?.requests?.storage;
  const size = requested === undefined ? undefined : quantityToBytes(String(requested));
  return volumeHandle(ctx, name, size);
}

function volumeHandle(ctx: K8sContext, name: string, sizeBytes: number | undefined): Volume {
  return {
    name,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    cleanup: (options: OperationOptions = {}) => deleteClaim(ctx, claimName(ctx.options.namespace, name), options.signal),
  };
}

/** Deletes a claim; "already gone" is success. */
export async function deleteClaim(ctx: K8sContext, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.call(`delete volume claim "${name}"`, () => ctx.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: ctx.ns }), signal);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
