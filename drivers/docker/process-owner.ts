import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { renewEvery } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { engineCall, type DockerContext } from './context.js';
import { DOCKER_LABELS, baseLabels, heartbeatLabels, heartbeatVolumeName, ownerMarkName } from './naming.js';
import { removeVolume } from './removal.js';

/**
 * The Docker driver's owner record: one per process per engine (and `ownerLeaseSeconds`), shared
 * by every driver of the process there, as the Kubernetes driver shares one owner Lease
 * (drivers/k8s/process-lease.ts). A process running a hundred drivers renews one heartbeat, not
 * a hundred. Docker cannot change a volume's labels, so the record is made of volumes:
 *
 * - **The heartbeat** (`dt_owner-<key>-<time>`, role `owner-heartbeat`, no namespace): its
 *   creation time on the engine's clock is the last renewal. Every third of the lease a new one
 *   is made and the previous one removed. It carries the owner (host/boot ID/pid/pid start time)
 *   and the lease.
 * - **A mark per namespace** (`dt-<namespace>_owner-<key>`, role `owner`, the namespace's
 *   labels): written once, by the first call of the first driver of the namespace that makes
 *   something; it names the heartbeat by its key. A close's sweep removes it with everything of
 *   the namespace. A mark another process's close removed while a driver of the namespace stays
 *   open here is written again with the next renewal (one list of the record's marks).
 * - A mark also carries the owner and the longest lease a record can say: a reaper of the
 *   per-driver records that came before reads it as a record of its own, never stale by its age,
 *   gone only when it sees the owner's process dead on this host.
 *
 * Reference-counted by the drivers that joined: the last one whose close swept its namespace
 * removes the heartbeat. A driver whose close failed stays a holder, so its namespace stays held
 * while the process lives (for a later close), and is reaped once the process is gone.
 */

/** The lease a namespace's mark says to a reaper that does not know heartbeats: the int32 maximum of seconds (about 68 years). */
export const MARK_LEASE_SECONDS = 2 ** 31 - 1;

class ProcessOwner {
  /** Random, not the process's identity, so that two copies of drivetrain in one process never share a record. */
  readonly key = randomBytes(8).toString('hex');
  /** Drivers that joined and whose close has not swept their namespace: the record lives while there is one. */
  private readonly holders = new Set<DockerContext>();
  /** Drivers that joined and are not closing, with their namespace: their marks are kept. */
  private readonly marking = new Map<DockerContext, string>();
  /** Each namespace's mark write (settled: written, or failed and forgotten). */
  private readonly marks = new Map<string, Promise<void>>();
  /** The namespaces whose mark write succeeded. */
  private readonly written = new Set<string>();
  /** The first heartbeat, shared by every driver that joins before it is written. */
  private first: Promise<void> | undefined;
  /** The heartbeat volume written last. */
  private current: string | undefined;
  private renewal: { stop(): Promise<void> } | undefined;
  /** Heartbeats, renewals and the removal, one at a time. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly leaseSeconds: number) {}

  /** Resolves once the heartbeat and the mark of the driver's namespace are written (at once when they are). */
  async join(ctx: DockerContext): Promise<void> {
    this.holders.add(ctx);
    this.marking.set(ctx, ctx.namespace);
    this.first ??= this.enqueue(() => this.beat(ctx)).then(
      () => {
        this.renewal ??= renewEvery(this.leaseSeconds, () => this.renew());
      },
      (error: unknown) => {
        this.first = undefined;
        throw error;
      },
    );
    await this.first;
    // A close that began meanwhile (`suspend`) writes nothing of its namespace any more.
    if (this.marking.has(ctx)) await this.mark(ctx, ctx.namespace);
  }

  /**
   * Before a close's sweep: the driver's namespace is marked by it no more, and a renewal in
   * flight (which may write the mark again) has settled, so nothing of it is written after the sweep.
   */
  async suspend(ctx: DockerContext): Promise<void> {
    const namespace = this.marking.get(ctx);
    this.marking.delete(ctx);
    await this.chain;
    await this.first?.catch(() => {});
    if (namespace === undefined) return;
    await this.marks.get(namespace)?.catch(() => {});
    if ([...this.marking.values()].includes(namespace)) return;
    // The sweep removes the mark; a driver of the namespace that joins later writes it again.
    this.marks.delete(namespace);
    this.written.delete(namespace);
  }

  /**
   * After a close swept the driver's namespace. The last holder stops the renewals and removes
   * the heartbeat (a failed removal leaves a heartbeat no mark names, which reapers remove once stale).
   */
  async leave(ctx: DockerContext, signal: AbortSignal): Promise<void> {
    this.marking.delete(ctx);
    this.holders.delete(ctx);
    if (this.holders.size > 0) return;
    // Stopped here, not in the chain: a renewal waits in the chain, and the stop waits for it.
    void this.renewal?.stop();
    this.renewal = undefined;
    await this.enqueue(async () => {
      // A driver that joined meanwhile keeps it, renewed.
      if (this.holders.size > 0) {
        this.renewal ??= renewEvery(this.leaseSeconds, () => this.renew());
        return;
      }
      const current = this.current;
      this.current = undefined;
      this.first = undefined;
      if (current !== undefined) await removeVolume(ctx, current, signal).catch(() => {});
    });
  }

  private mark(ctx: DockerContext, namespace: string): Promise<void> {
    let writing = this.marks.get(namespace);
    if (writing === undefined) {
      const write = writeMark(ctx, namespace, this.key).then(
        () => void this.written.add(namespace),
        (error: unknown) => {
          if (this.marks.get(namespace) === write) this.marks.delete(namespace);
          throw error;
        },
      );
      this.marks.set(namespace, (writing = write));
    }
    return writing;
  }

  /** One heartbeat: a new volume, then the previous one removed. */
  private async beat(ctx: DockerContext): Promise<void> {
    const name = heartbeatVolumeName(this.key, Date.now());
    await engineCall(ctx, { kind: 'volume', name }, () => ctx.docker().createVolume({ Name: name, Labels: heartbeatLabels(this.key, this.leaseSeconds) }), { idempotent: true });
    const previous = this.current;
    this.current = name;
    if (previous !== undefined && previous !== name) await removeVolume(ctx, previous).catch(() => {});
  }

  /** A heartbeat, then the marks that went missing (another process's close of a shared namespace) written again. */
  private renew(): Promise<void> {
    const [ctx] = this.holders;
    if (ctx === undefined) return Promise.resolve();
    return this.enqueue(async () => {
      await this.beat(ctx);
      const kept = [...new Set(this.marking.values())].filter((namespace) => this.written.has(namespace));
      if (kept.length === 0) return;
      const present = await markedNamespaces(ctx, this.key);
      const missing = kept.filter((namespace) => !present.has(namespace) && this.written.has(namespace));
      for (const namespace of missing) {
        this.marks.delete(namespace);
        this.written.delete(namespace);
      }
      await Promise.all(missing.map((namespace) => this.mark(ctx, namespace).catch(() => {})));
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => {});
    return run;
  }
}

async function writeMark(ctx: DockerContext, namespace: string, key: string): Promise<void> {
  const name = ownerMarkName(namespace, key);
  const labels = { ...baseLabels(namespace, 'owner'), [LABELS.leaseSeconds]: String(MARK_LEASE_SECONDS), [DOCKER_LABELS.ownerHeartbeat]: key };
  await engineCall(ctx, { kind: 'volume', name }, () => ctx.docker().createVolume({ Name: name, Labels: labels }), { idempotent: true });
}

/** The namespaces the record's marks on the engine name. */
async function markedNamespaces(ctx: DockerContext, key: string): Promise<Set<string>> {
  const filters = { label: [`${LABELS.managed}=true`, `${LABELS.role}=owner`, `${DOCKER_LABELS.ownerHeartbeat}=${key}`] };
  const list = await engineCall(ctx, { kind: 'other', what: 'volume list' }, (): Promise<{ Volumes?: Array<{ Labels?: Record<string, string> | null }> | null }> => ctx.docker().listVolumes({ filters }) as never, { idempotent: true });
  return new Set((list.Volumes ?? []).map((volume) => volume.Labels?.[LABELS.namespace]).filter((namespace): namespace is string => namespace !== undefined));
}

/** The engine a client reaches: its socket, or its host and port. */
export function engineKey(docker: Dockerode): string {
  const modem = docker.modem as { socketPath?: unknown; host?: unknown; port?: unknown };
  return String(modem.socketPath ?? `${String(modem.host)}:${String(modem.port)}`);
}

/** The process's records by engine and lease: kept for the life of the process, one small entry per engine and lease ever used. */
const processOwners = new Map<string, ProcessOwner>();

function processOwnerOf(ctx: DockerContext): ProcessOwner {
  const key = `${engineKey(ctx.docker())}/${ctx.options.ownerLeaseSeconds}`;
  let owner = processOwners.get(key);
  if (owner === undefined) processOwners.set(key, (owner = new ProcessOwner(ctx.options.ownerLeaseSeconds)));
  return owner;
}

/**
 * One driver's part in its process's owner record: joined by `ensure` (the first call that
 * makes something), suspended before its close's sweep, left once the sweep succeeded.
 */
export class DockerOwnerRecord {
  private shared: ProcessOwner | undefined;

  constructor(private readonly ctx: DockerContext) {}

  /**
   * Resolves once the process's record marks the namespace. A failure, such as a missing
   * permission, is logged at `warn` and tried again by the next call, never thrown.
   */
  ensure(): Promise<void> {
    const { ctx } = this;
    if (!ctx.options.ownerRecord || ctx.life.closed) return Promise.resolve();
    this.shared ??= processOwnerOf(ctx);
    return this.shared.join(ctx).catch((error: unknown) => {
      ctx.options.logger?.warn({ err: error, namespace: ctx.namespace }, 'drivetrain could not write its owner record');
    });
  }

  /** Before the close's sweep: nothing of the namespace is written after it. Idempotent. */
  async suspend(): Promise<void> {
    await this.shared?.suspend(this.ctx);
  }

  /** After a sweep that removed everything of the namespace. Idempotent. */
  async leave(signal: AbortSignal): Promise<void> {
    await this.shared?.leave(this.ctx, signal);
  }
}
