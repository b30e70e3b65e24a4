import { orphanNamespaces, ownerGone, type NamespaceOwners } from '../../src/kit/owner.js';
import type { FoundOwnerLease } from './owner-lease.js';

/** What a reap of orphans does, decided from the owner Leases it read. */
export interface ReapPlan {
  /** The expired Leases to take over (then delete, once their orphans are reaped). */
  expired: FoundOwnerLease[];
  /** The orphaned namespaces, each with the Leases naming it: reaped only when every one of them was taken. */
  orphans: Array<{ namespace: string; naming: FoundOwnerLease[] }>;
}

/**
 * Plans a reap from the owner Leases of a Kubernetes namespace, judged by lease age alone at
 * `nowMs`. A namespace is an orphan when every Lease naming it expired (with `unowned`: also a
 * namespace of `labelled` that no Lease names), never one of `mine` (the drivers open in the
 * reaper's process). Every expired Lease is taken over, also one whose namespaces all have a
 * live owner elsewhere (it is of no more use), but not one naming a namespace of `mine` that
 * no live Lease names yet: that driver has not written its record, and the expired Lease is
 * what keeps its namespace owned meanwhile.
 */
export function planReap(found: readonly FoundOwnerLease[], mine: ReadonlySet<string>, nowMs: number, unowned?: { labelled: Iterable<string> }): ReapPlan {
  const naming = new Map<string, FoundOwnerLease[]>();
  for (const lease of found) for (const namespace of lease.namespaces) naming.set(namespace, [...(naming.get(namespace) ?? []), lease]);
  const owners: NamespaceOwners[] = [...naming].map(([namespace, leases]) => ({ namespace, records: leases.map((lease) => lease.record) }));
  if (unowned !== undefined) for (const namespace of new Set(unowned.labelled)) if (!naming.has(namespace)) owners.push({ namespace, records: [] });
  const expired = (lease: FoundOwnerLease): boolean => ownerGone(lease.record, nowMs, false);
  const unheld = new Set([...mine].filter((namespace) => (naming.get(namespace) ?? []).every(expired)));
  return {
    expired: found.filter((lease) => expired(lease) && !lease.namespaces.some((namespace) => unheld.has(namespace))),
    orphans: orphanNamespaces(owners.filter((entry) => !mine.has(entry.namespace)), nowMs, { unowned: unowned !== undefined, leaseOnly: true }).map((namespace) => ({ namespace, naming: naming.get(namespace) ?? [] })),
  };
}
