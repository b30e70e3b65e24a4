import { randomBytes } from 'node:crypto';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { renewEvery } from '../../src/kit/owner.js';
import type { K8sContext } from './context.js';
import { clusterIdentity } from './kubeconfig.js';
import { deleteOwnerLease, writeOwnerLease } from './owner-lease.js';

/**
 * One owner Lease per process per (cluster, user, Kubernetes namespace, `ownerLeaseSeconds`),
 * shared by every driver of the process there, as the pod watch is (`shared-pod-watch.ts`): a
 * process running a hundred drivers creates one Lease and renews it once every third of the
 * lease, not a hundred Leases a hundred times.
 *
 * - It names the drivetrain namespace of every driver open in the process there, registered
 *   when the driver is created: the first write names the drivers opened beside it, and their
 *   first calls cost no write. A namespace stays named until its driver's `close` has removed
 *   everything of it; a close that failed leaves it named (held while the process lives, for a
 *   later `close`; reaped once the process is gone and the Lease expired). Closed namespaces
 *   drop out with the next write.
 * - A driver joins it with its first call that makes or finds something (`join`), which
 *   resolves once a stored write names its namespace. Writes run one at a time; every caller
 *   waiting shares the next one.
 * - Reference-counted by the drivers that joined: the last one's `close` stops the renewals
 *   and deletes the Lease; a driver that joins after that writes a new one.
 */

/** Drivers share a Lease when they reach the same API server as the same user, in the same Kubernetes namespace. */
function scopeOf(kc: KubeConfig, kubernetesNamespace: string): string {
  return clusterIdentity(kc, [kubernetesNamespace]);
}

/**
 * The process's Lease in one scope, with one lease duration (drivers that differ there hold
 * one each, as they would renew at different rates).
 */
class ProcessLease {
  /**
   * `dt-owner--<16 random hex>`: drawn, not derived from the process's identity, so that two
   * copies of drivetrain in one process (worker threads, two builds) never write one Lease.
   */
  readonly name = `dt-owner--${randomBytes(8).toString('hex')}`;
  /** Drivers open here that keep an owner record, by drivetrain namespace (how many of each). */
  private readonly opened = new Map<string, number>();
  /** The drivers that joined and have not closed; a renewal makes its request through one of them. */
  private readonly joined = new Set<K8sContext>();
  /** The Lease as last written (`undefined`: none stored, or deleted). */
  private stored: V1Lease | undefined;
  /** The namespaces `stored` names. */
  private named: ReadonlySet<string> = new Set();
  private deleting = false;
  /** The tail of the writes and the delete, which run one at a time. */
  private chain: Promise<void> = Promise.resolve();
  /** The write not yet started, shared by every caller that waits for it. */
  private next: Promise<void> | undefined;
  private renewal: { stop(): Promise<void> } | undefined;

  constructor(readonly scope: string, private readonly leaseSeconds: number) {}

  /** The namespaces of the drivers open here. */
  namespaces(): string[] {
    return [...this.opened.keys()];
  }

  open(namespace: string): void {
    this.opened.set(namespace, (this.opened.get(namespace) ?? 0) + 1);
  }

  /** The driver of `namespace` closed cleanly: its namespace is named no more from the next write on. */
  closed(namespace: string): void {
    const count = (this.opened.get(namespace) ?? 1) - 1;
    if (count > 0) this.opened.set(namespace, count);
    else this.opened.delete(namespace);
  }

  /** Resolves once a stored write of the Lease names the driver's namespace. */
  join(ctx: K8sContext): Promise<void> {
    this.joined.add(ctx);
    if (this.stored !== undefined && !this.deleting && this.named.has(ctx.options.namespace)) return Promise.resolve();
    return this.write(ctx);
  }

  /**
   * The driver of `ctx` left (its close removed everything of its namespace). The last driver
   * to leave stops the renewals and deletes the Lease (again, when a delete failed before).
   * `promptly` (a detach, which leaves its objects): a Lease other drivers keep is written
   * again at once when it still names the namespace, so it stops naming it now rather than at
   * its next renewal — a process gone before that renewal would leave a Lease that expires
   * naming the namespace, and a reaper would take what was left for an orphan.
   */
  async leave(ctx: K8sContext, signal: AbortSignal, promptly = false): Promise<void> {
    this.joined.delete(ctx);
    if (this.joined.size > 0) {
      const namespace = ctx.options.namespace;
      if (promptly && this.stored !== undefined && this.named.has(namespace) && !this.opened.has(namespace)) await this.write(ctx);
      return;
    }
    // Stopped here, not in the chain: a renewal's write waits in the chain, and the stop waits for it.
    void this.renewal?.stop();
    this.renewal = undefined;
    await this.enqueue(async () => {
      if (this.stored === undefined) return;
      // A driver that joined meanwhile keeps it, renewed.
      if (this.joined.size > 0) {
        this.renewal ??= renewEvery(this.leaseSeconds, () => this.renew());
        return;
      }
      this.deleting = true;
      try {
        await deleteOwnerLease(ctx, this.stored, signal);
        this.stored = undefined;
        this.named = new Set();
      } finally {
        this.deleting = false;
      }
    });
  }

  private write(ctx: K8sContext): Promise<void> {
    this.next ??= this.enqueue(async () => {
      this.next = undefined;
      const names = [...this.opened.keys()].sort();
      this.stored = await writeOwnerLease(ctx, this.name, this.stored, names, this.leaseSeconds);
      this.named = new Set(names);
      this.renewal ??= renewEvery(this.leaseSeconds, () => this.renew());
    });
    return this.next;
  }

  private renew(): Promise<void> {
    const [ctx] = this.joined;
    return ctx === undefined ? Promise.resolve() : this.write(ctx);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => {});
    return run;
  }
}

/**
 * The process's Leases by scope and lease duration. Kept for the life of the process: one small
 * entry per scope ever used, so that a Lease deleted and written again keeps one chain of writes.
 */
const processLeases = new Map<string, ProcessLease>();

function processLeaseOf(ctx: K8sContext): ProcessLease {
  const scope = scopeOf(ctx.kc, ctx.ns);
  const key = `${scope}/${ctx.options.ownerLeaseSeconds}`;
  let lease = processLeases.get(key);
  if (lease === undefined) processLeases.set(key, (lease = new ProcessLease(scope, ctx.options.ownerLeaseSeconds)));
  return lease;
}

/** The drivetrain namespaces with a driver open in this process that keeps an owner record in this scope. */
export function openNamespaces(kc: KubeConfig, kubernetesNamespace: string): Set<string> {
  const scope = scopeOf(kc, kubernetesNamespace);
  return new Set([...processLeases.values()].filter((lease) => lease.scope === scope).flatMap((lease) => lease.namespaces()));
}

/**
 * A driver's part in its process's owner Lease: opened with the driver (when it keeps an owner
 * record), joined by `ensure`, left by a `close` that removed everything of the namespace.
 */
export class OwnerLease {
  private readonly shared: ProcessLease | undefined;
  private left = false;

  constructor(private readonly ctx: K8sContext) {
    this.shared = ctx.options.ownerRecord ? processLeaseOf(ctx) : undefined;
    this.shared?.open(ctx.options.namespace);
  }

  /**
   * Resolves once the process's Lease names the namespace (at once when it does already). A
   * failure, such as a missing permission, is logged at `warn` and tried again by the next
   * call, never thrown.
   */
  ensure(): Promise<void> {
    const { ctx, shared } = this;
    if (shared === undefined || ctx.life.closed) return Promise.resolve();
    return shared.join(ctx).catch((error: unknown) => {
      ctx.options.logger?.warn({ err: error, namespace: ctx.options.namespace }, 'drivetrain could not write its owner record');
    });
  }

  /**
   * After a close removed everything of the namespace (or a detach left it on purpose): named no
   * more; the last driver deletes the Lease. `promptly`: at once (see `ProcessLease.leave`). Idempotent.
   */
  async leave(signal: AbortSignal, promptly = false): Promise<void> {
    const { ctx, shared } = this;
    if (shared === undefined) return;
    if (!this.left) {
      this.left = true;
      shared.closed(ctx.options.namespace);
    }
    await shared.leave(ctx, signal, promptly);
  }
}
