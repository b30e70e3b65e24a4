import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import { currentOwner, formatOwner, OwnerRecordKeeper, parseOwner, type NamespaceOwners, type OwnerRecord } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { engineCall, type DockerContext } from './context.js';
import { MANAGED_FILTER, baseLabels, ownerVolumeName } from './naming.js';
import { removeVolume } from './removal.js';

/**
 * The Docker driver's owner record: a volume of role `owner` labelled with the owning process
 * (`drivetrain.dev/owner`: host, boot ID, pid, pid start time) and its lease. Docker cannot
 * change the labels of a container or volume, so the heartbeat is the volume's creation time,
 * on the engine's own clock: every third of the lease a new one is made and the previous one
 * removed. An empty local volume is a directory: two cheap calls per renewal, no container,
 * nothing running, and a reaper on any host compares it with the engine's clock, never its own.
 */
export class DockerOwnerRecord extends OwnerRecordKeeper {
  private current: string | undefined;
  private readonly key = createHash('sha256').update(formatOwner(currentOwner())).digest('hex').slice(0, 10);

  constructor(private readonly ctx: DockerContext) {
    super({ enabled: () => ctx.options.ownerRecord && !ctx.life.closed, leaseSeconds: ctx.options.ownerLeaseSeconds, namespace: ctx.namespace, logger: ctx.options.logger });
  }

  /** One heartbeat: a new record volume, then the previous one removed. */
  protected async write(): Promise<void> {
    const { ctx } = this;
    const name = ownerVolumeName(ctx.namespace, this.key, Date.now());
    const labels = { ...baseLabels(ctx.namespace, 'owner'), [LABELS.leaseSeconds]: String(ctx.options.ownerLeaseSeconds) };
    await engineCall(ctx, { kind: 'volume', name }, () => ctx.docker().createVolume({ Name: name, Labels: labels }), { idempotent: true });
    const previous = this.current;
    this.current = name;
    if (previous !== undefined && previous !== name) await removeVolume(ctx, previous).catch(() => {});
  }
}

/** Every namespace on the engine with the owner records it holds, read against the engine's clock. */
export async function findNamespaceOwners(ctx: DockerContext, signal: AbortSignal | undefined): Promise<{ nowMs: number; found: NamespaceOwners[] }> {
  const call = <T>(what: string, operation: () => Promise<T>): Promise<T> => engineCall(ctx, { kind: 'other', what }, operation, { signal, idempotent: true });
  const docker = ctx.docker();
  const [info, containers, volumes] = await Promise.all([
    call('info', (): Promise<{ SystemTime?: string }> => docker.info({ abortSignal: signal } as never) as never),
    call('container list', (): Promise<Dockerode.ContainerInfo[]> => docker.listContainers({ all: true, filters: MANAGED_FILTER, abortSignal: signal } as never) as never),
    call('volume list', (): Promise<{ Volumes?: Array<{ Labels?: Record<string, string> | null; CreatedAt?: string }> | null }> => docker.listVolumes({ filters: MANAGED_FILTER, abortSignal: signal } as never) as never),
  ]);
  const byNamespace = new Map<string, OwnerRecord[]>();
  const entry = (namespace: string | undefined): OwnerRecord[] | undefined => {
    if (namespace === undefined) return undefined;
    let records = byNamespace.get(namespace);
    if (records === undefined) byNamespace.set(namespace, (records = []));
    return records;
  };
  for (const container of containers) entry(container.Labels?.[LABELS.namespace]);
  for (const volume of volumes.Volumes ?? []) {
    const labels = volume.Labels ?? {};
    const records = entry(labels[LABELS.namespace]);
    if (records === undefined || labels[LABELS.role] !== 'owner') continue;
    const leaseSeconds = Number(labels[LABELS.leaseSeconds]);
    const renewedAtMs = Date.parse(volume.CreatedAt ?? '');
    // A record whose time or lease cannot be read holds: it is never judged stale by a guess.
    records.push({ owner: parseOwner(labels[LABELS.owner]), renewedAtMs: Number.isFinite(renewedAtMs) ? renewedAtMs : Number.POSITIVE_INFINITY, leaseMs: (Number.isFinite(leaseSeconds) && leaseSeconds > 0 ? leaseSeconds : 60) * 1000 });
  }
  const nowMs = Date.parse(info.SystemTime ?? '');
  return { nowMs: Number.isFinite(nowMs) ? nowMs : Date.now(), found: [...byNamespace].map(([namespace, records]) => ({ namespace, records })) };
}
