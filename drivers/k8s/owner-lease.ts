import type { CoordinationV1Api, V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { ConflictError, EngineError } from '../../src/errors.js';
import { currentOwner, formatOwner, parseOwner, type OwnerRecord } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { isAlreadyExists, isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';
import { clientNode } from './sdk.js';

/**
 * The Kubernetes driver's owner record: one `coordination.k8s.io/v1` Lease per process per
 * (cluster, user, Kubernetes namespace, `ownerLeaseSeconds`), shared by every driver of the
 * process there (`process-lease.ts` keeps it). It is named `dt-owner--<16 random hex>`,
 * labelled `drivetrain.dev/managed=true` and `drivetrain.dev/role=owner`, and names the drivetrain namespaces it keeps alive in the
 * annotation `drivetrain.dev/namespaces` (comma-separated). `holderIdentity` names the
 * process (`host/boot ID/pid/pid start time`), `renewTime` is renewed every third of
 * `leaseDurationSeconds`; a namespace is an orphan once every Lease naming it has gone
 * unrenewed for its `leaseDurationSeconds`.
 *
 * Times are written as `V1MicroTime`, whose JSON has the six fractional digits the API server's
 * `MicroTime` requires (a plain `Date` writes three, which it refuses with a 400).
 */

/** The annotation that lists the drivetrain namespaces an owner Lease keeps alive. */
export const NAMESPACES_ANNOTATION = 'drivetrain.dev/namespaces';

const OWNER_SELECTOR = `${LABELS.managed}=true,${LABELS.role}=owner`;

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

/** The drivetrain namespaces a Lease names (none for a Lease drivetrain did not write). */
export function leaseNamespaces(lease: V1Lease): string[] {
  const listed = lease.metadata?.annotations?.[NAMESPACES_ANNOTATION];
  return listed === undefined || listed === '' ? [] : listed.split(',');
}

/**
 * Writes the process's Lease `name` naming `namespaces`: creates it, or renews `previous` (the
 * Lease as last written or read), taking it over when another holder (a reaper) has it; a
 * writer that won a race is read again. Resolves with the Lease as stored.
 */
export async function writeOwnerLease(ctx: K8sContext, name: string, previous: V1Lease | undefined, namespaces: readonly string[], leaseSeconds: number): Promise<V1Lease> {
  const api = leases(ctx);
  const me = formatOwner(currentOwner());
  const annotations = { [NAMESPACES_ANNOTATION]: namespaces.join(',') };
  for (let attempt = 1; ; attempt++) {
    const now = microNow();
    const taken = previous !== undefined && previous.spec?.holderIdentity !== me;
    const spec = {
      holderIdentity: me,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: previous === undefined || taken || previous.spec?.acquireTime == null ? now : microTime(previous.spec.acquireTime),
      renewTime: now,
      leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (taken ? 1 : 0),
    };
    try {
      if (previous === undefined) {
        return await ctx.call(`create owner lease "${name}"`, () => api.createNamespacedLease({ namespace: ctx.ns, body: { metadata: { name, labels: { [LABELS.managed]: 'true', [LABELS.role]: 'owner' }, annotations }, spec } }));
      }
      const body = { ...previous, metadata: { ...previous.metadata, annotations: { ...previous.metadata?.annotations, ...annotations } }, spec };
      return await ctx.call(`renew owner lease "${name}"`, () => api.replaceNamespacedLease({ name, namespace: ctx.ns, body }));
    } catch (error) {
      if (attempt >= 3) throw error;
      if (isAlreadyExists(error) || error instanceof ConflictError) previous = await ctx.call(`get owner lease "${name}"`, () => api.readNamespacedLease({ name, namespace: ctx.ns }));
      else if (isNotFound(error)) previous = undefined;
      else throw error;
    }
  }
}

/** One owner Lease as a reaper reads it. */
export interface FoundOwnerLease {
  lease: V1Lease;
  /** The drivetrain namespaces it names. */
  namespaces: string[];
  record: OwnerRecord;
}

/** Every owner Lease of the Kubernetes namespace that names a drivetrain namespace. */
export async function findOwnerLeases(ctx: K8sContext, signal: AbortSignal | undefined): Promise<FoundOwnerLease[]> {
  const list = await ctx.call('list owner leases', () => leases(ctx).listNamespacedLease({ namespace: ctx.ns, labelSelector: OWNER_SELECTOR }), signal);
  const found: FoundOwnerLease[] = [];
  for (const lease of list.items) {
    const namespaces = leaseNamespaces(lease);
    if (namespaces.length === 0) continue;
    const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
    const renewedAtMs = renewed == null ? Number.NaN : new Date(renewed).getTime();
    // A Lease without a readable time or duration holds: it is never judged stale by a guess.
    const record = { owner: parseOwner(lease.spec?.holderIdentity), renewedAtMs: Number.isFinite(renewedAtMs) ? renewedAtMs : Number.POSITIVE_INFINITY, leaseMs: (lease.spec?.leaseDurationSeconds ?? Number.POSITIVE_INFINITY) * 1000 };
    found.push({ lease, namespaces, record });
  }
  return found;
}

/**
 * Takes an expired Lease over for the reap, only as it was read (the replace carries its
 * resourceVersion: an owner that renewed it meanwhile wins with a 409), held for `seconds`
 * and still naming its namespaces: a reaper that dies midway leaves it to expire again for the
 * next one. Resolves with the Lease as taken, or `undefined` when it changed or went.
 */
export async function takeExpiredLease(ctx: K8sContext, lease: V1Lease, seconds: number, signal: AbortSignal | undefined): Promise<V1Lease | undefined> {
  const name = lease.metadata?.name as string;
  const now = microNow();
  const spec = { holderIdentity: formatOwner(currentOwner()), leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 };
  try {
    return await ctx.call(`take over expired lease "${name}"`, () => leases(ctx).replaceNamespacedLease({ name, namespace: ctx.ns, body: { ...lease, spec } }), signal);
  } catch (error) {
    if (error instanceof ConflictError || isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Deletes an owner Lease as it was last written or read (a delete precondition on its
 * resourceVersion): one another writer changed meanwhile (a reaper took it over) is theirs to
 * delete. Gone already, or a caller not allowed to see Leases (which made none): nothing to do.
 */
export async function deleteOwnerLease(ctx: K8sContext, lease: V1Lease, signal: AbortSignal | undefined): Promise<void> {
  const name = lease.metadata?.name as string;
  const resourceVersion = lease.metadata?.resourceVersion;
  try {
    await ctx.call(`delete owner lease "${name}"`, () => leases(ctx).deleteNamespacedLease({ name, namespace: ctx.ns, ...(resourceVersion === undefined ? {} : { body: { preconditions: { resourceVersion } } }) }), signal);
  } catch (error) {
    if (isNotFound(error) || error instanceof ConflictError || (error instanceof EngineError && error.statusCode === 403)) return;
    throw error;
  }
}
