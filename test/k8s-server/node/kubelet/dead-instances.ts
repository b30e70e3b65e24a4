import type Dockerode from 'dockerode';
import { localOwnerDead, parseOwner } from '../../../../src/kit/owner-identity.js';
import { NODE_LABELS } from './labels.js';

/** Removals at a time: a burst of force-removals is what can wedge an engine shared by several test runs. */
const REMOVALS_AT_ONCE = 4;

/** What {@link removeDeadInstances} removed. */
export interface DeadInstancesRemoved {
  instances: string[];
  containers: number;
  volumes: number;
}

/**
 * Removes the Docker containers and volumes of server instances that are certainly dead: a
 * server killed with SIGKILL, or one whose test run crashed, never ran its `stop`, and its pods'
 * containers and emptyDir and claim volumes would stay on the engine for ever. An instance is
 * dead when every one of its containers and volumes names, in `drivetrain-local-k8s/owner`, a
 * process on this host and boot that is gone (drivetrain's owner identity: the pid with its
 * kernel start time, so a reused pid is not taken for it). Never `ownInstance`; never an instance
 * of a live process (another server of this process, another test run's server on the same
 * engine); never one whose owner is on another host or unreadable (a server from before the
 * owner label): those are not certainly dead. A removal that fails is left for the next start.
 *
 * A real node does the same for the pods it no longer runs: the kubelet's container garbage
 * collector removes every container of a pod that is gone (pkg/kubelet/kuberuntime/kuberuntime_gc.go
 * `evictContainers`) and its volumes with the pod's directory (pkg/kubelet/kubelet_volumes.go
 * `cleanupOrphanedPodDirs`); here the whole node that ran them is gone, so no kubelet is left to.
 */
export async function removeDeadInstances(docker: Dockerode, ownInstance: string): Promise<DeadInstancesRemoved> {
  const filters = { label: [NODE_LABELS.instance] };
  const [containers, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }).then((list) => list.Volumes ?? []),
  ]);
  const owners = new Map<string, Set<string | undefined>>();
  for (const labels of [...containers.map((c) => c.Labels), ...volumes.map((v) => v.Labels)]) {
    const instance = labels?.[NODE_LABELS.instance];
    if (instance === undefined || instance === ownInstance) continue;
    let seen = owners.get(instance);
    if (seen === undefined) owners.set(instance, (seen = new Set()));
    seen.add(labels?.[NODE_LABELS.owner]);
  }
  const dead = new Set([...owners].filter(([, seen]) => [...seen].every(ownerCertainlyDead)).map(([instance]) => instance));
  const ofDead = (labels: Record<string, string> | null | undefined) => dead.has(labels?.[NODE_LABELS.instance] ?? '');
  const deadContainers = containers.filter((c) => ofDead(c.Labels)).map((c) => c.Id);
  const deadVolumes = volumes.filter((v) => ofDead(v.Labels)).map((v) => v.Name);
  // Containers first: a volume still mounted by one cannot be removed.
  const removedContainers = await removeAll(deadContainers, (id) => docker.getContainer(id).remove({ force: true, v: true }));
  const removedVolumes = await removeAll(deadVolumes, (name) => docker.getVolume(name).remove({ force: true }));
  return { instances: [...dead], containers: removedContainers, volumes: removedVolumes };
}

function ownerCertainlyDead(label: string | undefined): boolean {
  const owner = parseOwner(label);
  return owner !== undefined && localOwnerDead(owner);
}

/** Runs `remove` on every item, a few at a time; resolves with how many succeeded ("already gone" counts). */
async function removeAll(items: readonly string[], remove: (item: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  let removed = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as string;
      await remove(item).then(
        () => removed++,
        (error: unknown) => {
          if ((error as { statusCode?: unknown }).statusCode === 404) removed++;
        },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(REMOVALS_AT_ONCE, items.length) }, worker));
  return removed;
}
