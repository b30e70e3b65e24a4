import { describe, expect, it } from 'vitest';
import { planReap } from '../../drivers/k8s/orphan-leases.js';
import type { FoundOwnerLease } from '../../drivers/k8s/owner-lease.js';

const NOW = 1_000_000_000;

/** An owner Lease of a process on another host naming `namespaces`, renewed `ageMs` ago, of a 60 s lease. */
function lease(name: string, namespaces: string[], ageMs: number): FoundOwnerLease {
  return { lease: { metadata: { name } }, namespaces, record: { owner: { host: 'elsewhere', bootId: 'b', pid: 1, startTicks: 1 }, renewedAtMs: NOW - ageMs, leaseMs: 60_000 } };
}

const EXPIRED = 61_000;
const LIVE = 1_000;

function names(leases: readonly FoundOwnerLease[]): Array<string | undefined> {
  return leases.map((entry) => entry.lease.metadata?.name);
}

describe('planning a reap from owner Leases (k8s)', () => {
  it('a namespace is an orphan only when every Lease naming it expired; every expired Lease is taken over', () => {
    const dead = lease('dead', ['a', 'b'], EXPIRED);
    const alive = lease('alive', ['b', 'c'], LIVE);
    const plan = planReap([dead, alive], new Set(), NOW);
    expect(plan.orphans).toEqual([{ namespace: 'a', naming: [dead] }]);
    // `b` has a live owner elsewhere; the dead process's Lease goes all the same.
    expect(names(plan.expired)).toEqual(['dead']);
  });

  it('two expired Leases naming one namespace: reaped only with both', () => {
    const first = lease('first', ['a'], EXPIRED);
    const second = lease('second', ['a'], EXPIRED + 5_000);
    expect(planReap([first, second], new Set(), NOW).orphans).toEqual([{ namespace: 'a', naming: [first, second] }]);
  });

  it('never a namespace of a driver open in the reaper’s process, nor the expired Lease that alone keeps it owned', () => {
    const dead = lease('dead', ['mine', 'other'], EXPIRED);
    const plan = planReap([dead], new Set(['mine']), NOW);
    expect(plan.expired).toEqual([]);
    // `other` is an orphan, but its only Lease is not taken: it waits for a later reaper.
    expect(plan.orphans).toEqual([{ namespace: 'other', naming: [dead] }]);

    // Once this process's own Lease names it, the expired one is of no more use.
    const ours = lease('ours', ['mine'], LIVE);
    expect(names(planReap([dead, ours], new Set(['mine']), NOW).expired)).toEqual(['dead']);
  });

  it('a Lease without a readable time never expires; namespaces without a Lease only with unowned', () => {
    const unreadable: FoundOwnerLease = { ...lease('odd', ['a'], 0), record: { owner: undefined, renewedAtMs: Number.POSITIVE_INFINITY, leaseMs: 60_000 } };
    expect(planReap([unreadable], new Set(), NOW)).toEqual({ expired: [], orphans: [] });
    expect(planReap([], new Set(['mine']), NOW, { labelled: ['x', 'mine'] }).orphans).toEqual([{ namespace: 'x', naming: [] }]);
    expect(planReap([], new Set(), NOW).orphans).toEqual([]);
  });
});
