import { mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClusterContext, KObject } from '../../api.js';
import { NODE_LABELS, instanceLabels } from './labels.js';
import { objectData } from './env.js';
import type { VolumeSources } from './spec.js';
import { fsGroupOf, setVolumeOwnership } from './security.js';

/** A volume cannot be set up yet; the pod waits (event FailedMount) and retries. */
export class VolumePendingError extends Error {
  override name = 'VolumePendingError';
  constructor(readonly reason: 'FailedMount' | 'FailedScheduling', message: string) {
    super(message);
  }
}

/** The Docker volume that backs a bound claim. */
export function claimVolumeName(claim: KObject): string {
  return `k8s-pvc-${claim.metadata.uid}`;
}

/** The Docker volume that backs one emptyDir of one pod. */
export function emptyDirVolumeName(pod: KObject, volume: string): string {
  return `k8s-emptydir-${pod.metadata.uid}-${volume}`.slice(0, 200);
}

function podDir(ctx: ClusterContext, pod: KObject): string {
  return join(ctx.stateDir, 'node', 'pods', pod.metadata.uid);
}

async function writeProjected(dir: string, data: Record<string, Buffer>, items: Array<{ key: string; path: string; mode?: number }> | undefined, mode: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const entries: Array<{ key: string; path: string; mode?: number }> = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of entries) {
    const value = data[item.key];
    if (value === undefined) continue;
    const file = join(dir, item.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, value);
    await chmod(file, item.mode ?? mode);
  }
  // Containers may run as any user: the directory must be readable by all.
  await chmod(dir, 0o755);
}

/**
 * An emptyDir is mode 0777 in Kubernetes, so containers running as any user can write
 * it; a new Docker volume is root-owned 0755. The engine is local, so its mount point
 * is adjusted directly; with a remote engine this is skipped.
 */
export async function makeWorldWritable(ctx: ClusterContext, volume: string): Promise<void> {
  try {
    const info = await ctx.docker.getVolume(volume).inspect();
    await chmod(info.Mountpoint, 0o777);
  } catch {
    // Not reachable from here: the volume keeps the engine's default mode.
  }
}

/**
 * Sets up every volume of the pod: emptyDir → a Docker volume per pod, PVC → the
 * claim's Docker volume (claim must be Bound), secret/configMap → files in a
 * directory bound read-only, hostPath → a bind.
 */
export async function prepareVolumes(ctx: ClusterContext, pod: KObject): Promise<VolumeSources> {
  const sources: VolumeSources = new Map();
  const ns = pod.metadata.namespace ?? 'default';
  for (const volume of pod.spec.volumes ?? []) {
    if (volume.emptyDir) {
      const name = emptyDirVolumeName(pod, volume.name);
      await ctx.docker.createVolume({
        Name: name,
        Labels: { ...instanceLabels(ctx), [NODE_LABELS.namespace]: ns, [NODE_LABELS.pod]: pod.metadata.name, [NODE_LABELS.uid]: pod.metadata.uid },
      });
      await makeWorldWritable(ctx, name);
      sources.set(volume.name, { type: 'volume', source: name });
    } else if (volume.persistentVolumeClaim) {
      const claimName = volume.persistentVolumeClaim.claimName;
      const claim = ctx.store.get('persistentvolumeclaims', ns, claimName);
      if (!claim) throw new VolumePendingError('FailedScheduling', `0/1 nodes are available: persistentvolumeclaim "${claimName}" not found.`);
      if (claim.status?.phase !== 'Bound') throw new VolumePendingError('FailedScheduling', `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.`);
      sources.set(volume.name, { type: 'volume', source: claimVolumeName(claim), readOnly: Boolean(volume.persistentVolumeClaim.readOnly) });
    } else if (volume.secret || volume.configMap) {
      const kind = volume.secret ? 'secret' : 'configmap';
      const ref = volume.secret ?? volume.configMap;
      const refName: string = volume.secret ? ref.secretName : ref.name;
      const object = ctx.store.get(kind === 'secret' ? 'secrets' : 'configmaps', ns, refName);
      if (!object && !ref.optional) throw new VolumePendingError('FailedMount', `MountVolume.SetUp failed for volume "${volume.name}" : ${kind} "${refName}" not found`);
      const dir = join(podDir(ctx, pod), 'volumes', volume.name);
      await writeProjected(dir, object ? objectData(kind, object) : {}, ref.items, ref.defaultMode ?? 0o644);
      sources.set(volume.name, { type: 'bind', source: dir, readOnly: true });
    } else if (volume.hostPath) {
      sources.set(volume.name, { type: 'bind', source: volume.hostPath.path });
    }
  }
  const fsGroup = fsGroupOf(pod);
  if (fsGroup !== undefined) {
    for (const source of sources.values()) {
      if (source.type !== 'volume' || source.readOnly) continue;
      // The engine is local: its volume's mount point is changed directly (skipped with a remote engine).
      const mountpoint = await ctx.docker.getVolume(source.source).inspect().then((info) => info.Mountpoint, () => undefined);
      if (mountpoint !== undefined) await setVolumeOwnership(mountpoint, fsGroup).catch(() => undefined);
    }
  }
  return sources;
}

/** Removes what prepareVolumes made for the pod (never a claim's volume). Already gone is fine. */
export async function releaseVolumes(ctx: ClusterContext, pod: KObject): Promise<void> {
  for (const volume of pod.spec.volumes ?? []) {
    if (!volume.emptyDir) continue;
    await ctx.docker.getVolume(emptyDirVolumeName(pod, volume.name)).remove({ force: true }).catch(() => undefined);
  }
  await rm(podDir(ctx, pod), { recursive: true, force: true }).catch(() => undefined);
}
