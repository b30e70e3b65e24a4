import { InvalidInputError } from '../errors.js';
import type { Logger } from '../types.js';
import { validateNamespace } from '../validate.js';
import { MAX_TIMER_MS, positiveInteger } from './options.js';
import { localOwnerDead, type OwnerIdentity } from './owner-identity.js';

export { currentOwner, formatOwner, isLocalOwner, localOwnerDead, parseOwner, type OwnerIdentity } from './owner-identity.js';

/**
 * Owner records: what a process keeps for the namespaces of its open drivers, so that a later
 * driver (or `drivetrain cleanup --orphans`) can tell a namespace whose owner was killed from one
 * in use. An owner is a process. Where each driver keeps its record: docs/reliability.md, "No
 * orphans".
 */

/** Options every driver takes about owner records and orphans. */
export interface OwnerOptions {
  /**
   * Keep an owner record while the driver is open (Kubernetes: the namespace named by the
   * process's owner Lease, one per cluster, user and Kubernetes namespace; Docker: the
   * namespace's mark, naming the process's heartbeat volume, one per engine; native: an owner
   * file), removed by `close`. `false` records nothing: the
   * namespace is then never reaped as an orphan, for engines that reattach to their tasks from
   * another process on purpose.
   * @default true
   */
  ownerRecord?: boolean;
  /**
   * Reap, in the background, the namespaces on the same engine (cluster, root) whose owner is
   * gone: an expired Lease, a dead process on this host, a stale heartbeat. Never a namespace
   * with a live owner or with no owner record.
   * @default true
   */
  reapOrphans?: boolean;
  /**
   * How long an owner record holds without being renewed, in seconds: the Lease's
   * `leaseDurationSeconds`, the age past which a heartbeat of an owner on another host is
   * stale. Renewed every third of it.
   * @default 60
   */
  ownerLeaseSeconds?: number;
}

export interface ResolvedOwnerOptions {
  ownerRecord: boolean;
  reapOrphans: boolean;
  ownerLeaseSeconds: number;
}

export const DEFAULT_OWNER_LEASE_SECONDS = 60;

/** Upper bound of one background reap at open, in milliseconds. */
export const BACKGROUND_REAP_BOUND_MS = 60_000;

export function resolveOwnerOptions(options: OwnerOptions): ResolvedOwnerOptions {
  return {
    ownerRecord: flag(options.ownerRecord, 'options.ownerRecord'),
    reapOrphans: flag(options.reapOrphans, 'options.reapOrphans'),
    ownerLeaseSeconds: leaseSeconds(options.ownerLeaseSeconds),
  };
}

/** A Lease's `leaseDurationSeconds` is an int32. */
function leaseSeconds(value: unknown): number {
  const seconds = positiveInteger(value, 'options.ownerLeaseSeconds', DEFAULT_OWNER_LEASE_SECONDS, 'seconds');
  if (seconds > 2 ** 31 - 1) throw new InvalidInputError('options.ownerLeaseSeconds', `a positive integer number of seconds (at most ${2 ** 31 - 1})`, value);
  return seconds;
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InvalidInputError(field, 'true or false', value);
  return value;
}

/** One owner record as a reaper reads it. */
export interface OwnerRecord {
  /** Who holds it; `undefined` when the record names no owner drivetrain can read. */
  owner: OwnerIdentity | undefined;
  /** When it was last renewed, in ms since the epoch, on the clock `nowMs` is read from. */
  renewedAtMs: number;
  /** How long it holds without renewal, in ms. */
  leaseMs: number;
}

/**
 * Whether a record's owner is gone: its process is dead (an owner on this host, when
 * `checkProcess`), or its last renewal is older than its lease.
 */
export function ownerGone(record: OwnerRecord, nowMs: number, checkProcess = true): boolean {
  if (checkProcess && record.owner !== undefined && localOwnerDead(record.owner)) return true;
  return nowMs - record.renewedAtMs > record.leaseMs;
}

/** The owner records found for one namespace. */
export interface NamespaceOwners {
  namespace: string;
  records: OwnerRecord[];
}

/** What a reap of orphans may take. */
export interface OrphanFilter {
  /** Also namespaces with no owner record at all (only when a user asks for it). @default false */
  unowned?: boolean;
  /** Never these (the caller's own namespace). */
  except?: string;
  /** Judge by lease age only, never by a process (Kubernetes: the Lease's grace lets a fresh process take over). */
  leaseOnly?: boolean;
}

/** The namespaces whose every owner record is gone (and, when asked, those with none). */
export function orphanNamespaces(found: readonly NamespaceOwners[], nowMs: number, filter: OrphanFilter = {}): string[] {
  return found
    .filter((entry) => entry.namespace !== filter.except && isNamespace(entry.namespace))
    .filter((entry) => (entry.records.length === 0 ? filter.unowned === true : entry.records.every((record) => ownerGone(record, nowMs, filter.leaseOnly !== true))))
    .map((entry) => entry.namespace);
}

function isNamespace(name: string): boolean {
  try {
    validateNamespace(name);
    return true;
  } catch {
    return false;
  }
}

/** Options of a driver's `reapOrphans`. */
export interface ReapOrphansOptions extends OrphanFilter {
  signal?: AbortSignal;
}

const inFlight = new Map<string, Promise<string[]>>();

/**
 * Runs `reap` for one engine (`key`) in the background, at most one at a time per process
 * (a later driver joins the one in flight), bounded by {@link BACKGROUND_REAP_BOUND_MS}.
 * Never rejects: a failure is logged at `warn` and the namespaces wait for the next reaper.
 */
export function reapInBackground(key: string, reap: (signal: AbortSignal) => Promise<string[]>, logger: Logger | undefined): Promise<string[]> {
  let running = inFlight.get(key);
  if (running === undefined) {
    running = reap(AbortSignal.timeout(BACKGROUND_REAP_BOUND_MS))
      .then((reaped) => {
        if (reaped.length > 0) logger?.info({ namespaces: reaped }, `drivetrain reaped ${reaped.length} orphaned namespace(s)`);
        return reaped;
      })
      .catch((error: unknown) => {
        logger?.warn({ err: error }, 'drivetrain could not reap orphaned namespaces');
        return [];
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

/**
 * Calls `renew` every third of the lease until `stop` is called (unref'd: never keeps the process
 * alive). `stop` resolves once a renewal in flight has settled, so nothing is written after it.
 */
export function renewEvery(leaseSeconds: number, renew: () => Promise<void>): { stop(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    current = current.then(() => (stopped ? undefined : renew().catch(() => {})));
  }, Math.min(MAX_TIMER_MS, Math.max(250, Math.floor((leaseSeconds * 1000) / 3))));
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
