import type { CoordinationV1Api, V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { ConflictError, EngineError } from '../../src/errors.js';
import { currentOwner, formatOwner, OwnerRecordKeeper, parseOwner, type NamespaceOwners } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { isAlreadyExists, isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';
import { objectLabels } from './naming.js';
import { clientNode } from './sdk.js';

/**
 * The Kubernetes driver's owner record: one `coordination.k8s.io/v1` Lease per drivetrain
 * namespace, `dt-<namespace>--owner`, labelled with the namespace. `holderIdentity` names the
 * process holding it (`host/boot ID/pid/pid start time`), `renewTime` is renewed every third of
 * `leaseDurationSeconds` while a driver of the namespace is open, and `close` deletes it. A
 * fresh process that opens a driver of the namespace takes the Lease over (a new
 * `acquireTime`, `leaseTransitions` + 1), as client-go's leader election does; the namespace
 * is an orphan once nobody renewed it for `leaseDurationSeconds`.
 *
 * Times are written as `V1MicroTime`, whose JSON has the six fractional digits the API server's
 * `MicroTime` requires (a plain `Date` writes three, which it refuses with a 400).
 */

/** The Lease of a drivetrain namespace. */
export function ownerLeaseName(namespace: string): string {
  return `dt-${namespace}--owner`;
}

function leases(ctx: K8sContext): CoordinationV1Api {
  return ctx.kc.makeApiClient(clientNode().CoordinationV1Api);
}

/** Now as a `MicroTime` (six fractional digits on the wire). */
function microNow(): V1MicroTime {
  return new (clientNode().V1MicroTime)();
}

function microTime(value: Date | string): V1MicroTime {
  return new (clientNode().V1MicroTime)(value);
}

/** Holds the namespace's Lease while the driver is open. */
export class OwnerLease extends OwnerRecordKeeper {
  private current: V1Lease | undefined;
  private readonly api: CoordinationV1Api;
  private readonly name: string;

  constructor(private readonly ctx: K8sContext) {
    super({ enabled: () => ctx.options.ownerRecord && !ctx.life.closed, leaseSeconds: ctx.options.ownerLeaseSeconds, namespace: ctx.options.namespace, logger: ctx.options.logger });
    this.api = leases(ctx);
    this.name = ownerLeaseName(ctx.options.namespace);
  }

  /** Creates the Lease, or takes it over and renews it; a writer that won a race is read again. */
  protected async write(): Promise<void> {
    const { ctx, api, name } = this;
    const me = formatOwner(currentOwner());
    for (let attempt = 1; ; attempt++) {
      const now = microNow();
      const previous = this.current;
      const taken = previous !== undefined && previous.spec?.holderIdentity !== me;
      const spec = {
        holderIdentity: me,
        leaseDurationSeconds: ctx.options.ownerLeaseSeconds,
        acquireTime: previous === undefined || taken || previous.spec?.acquireTime == null ? now : microTime(previous.spec.acquireTime),
        renewTime: now,
        leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (taken ? 1 : 0),
      };
      try {
        if (previous === undefined) {
          this.current = await ctx.call(`create owner lease "${name}"`, () => api.createNamespacedLease({ namespace: ctx.ns, body: { metadata: { name, labels: objectLabels(ctx.options.namespace, 'owner') }, spec } }));
        } else {
          const body = { ...previous, spec };
          this.current = await ctx.call(`renew owner lease "${name}"`, () => api.replaceNamespacedLease({ name, namespace: ctx.ns, body }));
        }
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        if (isAlreadyExists(error) || error instanceof ConflictError) this.current = await ctx.call(`get owner lease "${name}"`, () => api.readNamespacedLease({ name, namespace: ctx.ns }));
        else if (isNotFound(error)) this.current = undefined;
        else throw error;
      }
    }
  }
}

/** Every drivetrain namespace with an owner Lease in the Kubernetes namespace, and its Lease as read. */
export async function findOwnerLeases(ctx: K8sContext, signal: AbortSignal | undefined): Promise<{ found: NamespaceOwners[]; leases: Map<string, V1Lease> }> {
  const list = await ctx.call('list owner leases', () => leases(ctx).listNamespacedLease({ namespace: ctx.ns, labelSelector: `${LABELS.managed}=true,${LABELS.role}=owner` }), signal);
  const found: NamespaceOwners[] = [];
  const byNamespace = new Map<string, V1Lease>();
  for (const lease of list.items) {
    const namespace = lease.metadata?.labels?.[LABELS.namespace];
    if (namespace === undefined || lease.metadata?.name !== ownerLeaseName(namespace)) continue;
    const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
    const renewedAtMs = renewed == null ? Number.NaN : new Date(renewed).getTime();
    found.push({
      namespace,
      // A Lease without a readable time or duration holds: it is never judged stale by a guess.
      records: [{ owner: parseOwner(lease.spec?.holderIdentity), renewedAtMs: Number.isFinite(renewedAtMs) ? renewedAtMs : Number.POSITIVE_INFINITY, leaseMs: (lease.spec?.leaseDurationSeconds ?? Number.POSITIVE_INFINITY) * 1000 }],
    });
    byNamespace.set(namespace, lease);
  }
  return { found, leases: byNamespace };
}

/**
 * Takes an expired Lease over for the reap, only as it was read (the replace carries its
 * resourceVersion: an owner that renewed it meanwhile wins with a 409), held for `seconds`: a
 * reaper that dies midway leaves it to expire again for the next one, and the reap's `close`
 * deletes it last. True when taken, false when it changed or went.
 */
export async function takeExpiredLease(ctx: K8sContext, lease: V1Lease, seconds: number, signal: AbortSignal | undefined): Promise<boolean> {
  const name = lease.metadata?.name as string;
  const now = microNow();
  const spec = { holderIdentity: formatOwner(currentOwner()), leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 };
  try {
    await ctx.call(`take over expired lease "${name}"`, () => leases(ctx).replaceNamespacedLease({ name, namespace: ctx.ns, body: { ...lease, spec } }), signal);
    return true;
  } catch (error) {
    if (error instanceof ConflictError || isNotFound(error)) return false;
    throw error;
  }
}

/** Deletes the owner Lease of a namespace (`close`); a caller not allowed to see Leases made none. */
export async function deleteOwnerLease(ctx: K8sContext, signal: AbortSignal): Promise<void> {
  try {
    await ctx.call('delete owner lease', () => leases(ctx).deleteNamespacedLease({ name: ownerLeaseName(ctx.options.namespace), namespace: ctx.ns }), signal);
  } catch (error) {
    if (isNotFound(error) || (error instanceof EngineError && error.statusCode === 403)) return;
    throw error;
  }
}
