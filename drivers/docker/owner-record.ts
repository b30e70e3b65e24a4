import type Dockerode from 'dockerode';
import { ownerGone, parseOwner, type NamespaceOwners, type OwnerRecord } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { engineCall, type DockerContext } from './context.js';
import { DOCKER_LABELS, MANAGED_FILTER } from './naming.js';

/**
 * How a reaper reads the Docker driver's owner records (written by process-owner.ts), on the
 * engine's clock. Two kinds are read, so that a reaper judges the records of older drivetrains too:
 *
 * - a namespace's mark in its process's record (role `owner`, with `drivetrain.dev/owner-heartbeat`):
 *   renewed when the newest heartbeat of that key was made, with the heartbeat's lease. A mark
 *   whose heartbeat is not found holds, gone only when its owner's process is seen dead;
 * - a per-driver heartbeat of older drivetrains (role `owner` without it): renewed when it was
 *   made, with its own lease.
 */

interface VolumeInfo {
  Name: string;
  Labels?: Record<string, string> | null;
  CreatedAt?: string;
}

/** A process's heartbeats found on the engine, by key. */
export interface Heartbeat {
  key: string;
  /** The newest of them, as a record. */
  record: OwnerRecord;
  /** Every heartbeat volume of the key (one, but for a renewal caught between its two calls). */
  volumes: string[];
  /** The namespaces whose marks name it. */
  marks: Set<string>;
}

/** Every namespace on the engine with the owner records it holds, and the processes' heartbeats, read against the engine's clock. */
export async function findNamespaceOwners(ctx: DockerContext, signal: AbortSignal | undefined): Promise<{ nowMs: number; found: NamespaceOwners[]; heartbeats: Heartbeat[] }> {
  const call = <T>(what: string, operation: () => Promise<T>): Promise<T> => engineCall(ctx, { kind: 'other', what }, operation, { signal, idempotent: true });
  const docker = ctx.docker();
  const [info, containers, volumes] = await Promise.all([
    call('info', (): Promise<{ SystemTime?: string }> => docker.info({ abortSignal: signal } as never) as never),
    call('container list', (): Promise<Dockerode.ContainerInfo[]> => docker.listContainers({ all: true, filters: MANAGED_FILTER, abortSignal: signal } as never) as never),
    call('volume list', (): Promise<{ Volumes?: VolumeInfo[] | null }> => docker.listVolumes({ filters: MANAGED_FILTER, abortSignal: signal } as never) as never),
  ]);
  const heartbeats = heartbeatsOf(volumes.Volumes ?? []);
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
    const namespace = labels[LABELS.namespace];
    const records = entry(namespace);
    if (records === undefined || namespace === undefined || labels[LABELS.role] !== 'owner') continue;
    const key = labels[DOCKER_LABELS.ownerHeartbeat];
    if (key === undefined) {
      records.push(recordOf(volume));
      continue;
    }
    const heartbeat = heartbeats.get(key);
    heartbeat?.marks.add(namespace);
    records.push(heartbeat?.record ?? { owner: parseOwner(labels[LABELS.owner]), renewedAtMs: Number.POSITIVE_INFINITY, leaseMs: leaseMsOf(labels) });
  }
  const nowMs = Date.parse(info.SystemTime ?? '');
  return { nowMs: Number.isFinite(nowMs) ? nowMs : Date.now(), found: [...byNamespace].map(([namespace, records]) => ({ namespace, records })), heartbeats: [...heartbeats.values()] };
}

/**
 * The heartbeat volumes a reap may remove: those of owners that are gone whose marks are all in
 * namespaces reaped now (or that have none), so that no mark still on the engine loses its heartbeat.
 */
export function staleHeartbeats(heartbeats: readonly Heartbeat[], reaped: ReadonlySet<string>, nowMs: number, checkProcess: boolean): string[] {
  return heartbeats.filter((heartbeat) => ownerGone(heartbeat.record, nowMs, checkProcess) && [...heartbeat.marks].every((namespace) => reaped.has(namespace))).flatMap((heartbeat) => heartbeat.volumes);
}

function heartbeatsOf(volumes: readonly VolumeInfo[]): Map<string, Heartbeat> {
  const heartbeats = new Map<string, Heartbeat>();
  for (const volume of volumes) {
    const labels = volume.Labels ?? {};
    const key = labels[DOCKER_LABELS.ownerHeartbeat];
    if (labels[LABELS.role] !== 'owner-heartbeat' || key === undefined) continue;
    const record = recordOf(volume);
    const known = heartbeats.get(key);
    if (known === undefined) heartbeats.set(key, { key, record, volumes: [volume.Name], marks: new Set() });
    else {
      known.volumes.push(volume.Name);
      if (record.renewedAtMs > known.record.renewedAtMs) known.record = record;
    }
  }
  return heartbeats;
}

/** A record read from a volume made as a heartbeat: its creation time is its last renewal. */
function recordOf(volume: VolumeInfo): OwnerRecord {
  const labels = volume.Labels ?? {};
  const renewedAtMs = Date.parse(volume.CreatedAt ?? '');
  // A record whose time or lease cannot be read holds: it is never judged stale by a guess.
  return { owner: parseOwner(labels[LABELS.owner]), renewedAtMs: Number.isFinite(renewedAtMs) ? renewedAtMs : Number.POSITIVE_INFINITY, leaseMs: leaseMsOf(labels) };
}

function leaseMsOf(labels: Record<string, string>): number {
  const leaseSeconds = Number(labels[LABELS.leaseSeconds]);
  return (Number.isFinite(leaseSeconds) && leaseSeconds > 0 ? leaseSeconds : 60) * 1000;
}
