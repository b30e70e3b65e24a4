import type Dockerode from 'dockerode';
import type { ClusterContext } from '../../api.js';
import { NODE_LABELS } from './labels.js';

/** How far a Docker container of the pod got, as its worker last saw it. */
type Phase = 'creating' | 'created' | 'running' | 'exited';

interface Known {
  /** The pod's container it runs (`POD` for the network holder). */
  container: string;
  phase: Phase;
  id?: string;
}

/** A container the pod still has to stop: running, or made and never started. */
export interface LiveContainer {
  /** The engine's name of the container (any Docker call takes it). */
  ref: string;
  /** The pod's container it runs. */
  container: string;
  phase: 'created' | 'running';
}

/** The engine's name of a listed container. */
const engineName = (info: Dockerode.ContainerInfo): string => (info.Names?.[0] ?? info.Id).replace(/^\//, '');

/** The phase of a listed container (paused and restarting still hold the pod's processes). */
function phaseOf(state: string): Phase {
  if (state === 'created') return 'created';
  return state === 'running' || state === 'paused' || state === 'restarting' ? 'running' : 'exited';
}

/**
 * The Docker containers of one pod, as its worker made them or found them when the node
 * started: their names, engine IDs and how far each got. Stopping and removing the pod reads
 * them here and asks the engine nothing else, so ending a pod costs a few calls whatever the
 * number of containers on the engine (a list, even by label, walks every one of them).
 *
 * A kubelet keeps the same: its pod lifecycle event generator keeps each pod's containers and
 * their states (pkg/kubelet/pleg/generic.go `GenericPLEG.podRecords`, and the runtime `cache`
 * it fills on one relist of the whole node per period), and the pod worker hands that cached
 * status to the sync that kills the pod (pkg/kubelet/pod_workers.go `podWorkerLoop`,
 * `podCache.GetNewerThan`; pkg/kubelet/kubelet.go `SyncTerminatingPod` kills
 * `ConvertPodStatusToRunningPod(podStatus)`): no runtime list per pod.
 *
 * Keyed by the engine's name, which the worker chooses before the create call: a container
 * whose create answered with an error, but was made, is still removed with the pod.
 */
export class PodContainers {
  private readonly byName = new Map<string, Known>();
  private readonly nameById = new Map<string, string>();
  private readonly startsInFlight = new Set<Promise<unknown>>();

  /** `found`: the pod's containers the node found at its start (a previous run of the server). */
  constructor(found: readonly Dockerode.ContainerInfo[] = []) {
    for (const info of found) this.set(engineName(info), { container: info.Labels[NODE_LABELS.container] ?? '', phase: phaseOf(info.State), id: info.Id });
  }

  private set(name: string, known: Known): void {
    const previous = this.byName.get(name);
    if (previous?.id !== undefined) this.nameById.delete(previous.id);
    this.byName.set(name, known);
    if (known.id !== undefined) this.nameById.set(known.id, name);
  }

  private byRef(ref: string): Known | undefined {
    return this.byName.get(this.nameById.get(ref) ?? ref);
  }

  /** A create of `name` is about to be asked for. */
  creating(name: string, container: string): void {
    this.set(name, { container, phase: 'creating' });
  }

  /** The engine made `name` as `id`. */
  created(name: string, id: string): void {
    const known = this.byName.get(name);
    this.set(name, { container: known?.container ?? '', phase: 'created', id });
  }

  /** The container (by engine name or ID) started. */
  started(ref: string): void {
    const known = this.byRef(ref);
    if (known) known.phase = 'running';
  }

  /** The container (by engine name or ID) ended, or is known not to run. */
  exited(ref: string): void {
    const known = this.byRef(ref);
    if (known) known.phase = 'exited';
  }

  /** A start of one of the pod's containers (from its create on) is in flight until `start` settles. */
  starting(start: Promise<unknown>): void {
    this.startsInFlight.add(start);
    void start.then(
      () => this.startsInFlight.delete(start),
      () => this.startsInFlight.delete(start),
    );
  }

  /**
   * Resolves once no start is in flight, so that a kill sees each container as it ends up:
   * started (then stopped like any running one) or never started (then removed). A kubelet
   * never kills a pod's containers while a sync of it is starting one: its pod worker runs
   * the terminating sync only after the sync in flight returned (pkg/kubelet/pod_workers.go
   * `podWorkerLoop`), so the start completes first and the kill stops what it started.
   */
  async startsSettled(): Promise<void> {
    while (this.startsInFlight.size > 0) await Promise.allSettled([...this.startsInFlight]);
  }

  /** Containers running or made and never started. */
  live(): LiveContainer[] {
    const live: LiveContainer[] = [];
    for (const [ref, known] of this.byName) if (known.phase === 'created' || known.phase === 'running') live.push({ ref, container: known.container, phase: known.phase });
    return live;
  }

  /** Removes every container of the pod (already gone is fine) and forgets them. */
  async removeAll(ctx: ClusterContext): Promise<void> {
    const refs = [...this.byName.keys()];
    this.byName.clear();
    this.nameById.clear();
    await Promise.all(refs.map((ref) => ctx.docker.getContainer(ref).remove({ force: true }).catch(() => undefined)));
  }
}
