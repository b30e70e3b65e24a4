import type Dockerode from 'dockerode';
import type { ClusterContext, KObject, StoreEvent } from '../../api.js';
import { SELECTED_NODE, waitsForConsumer } from '../controllers/pvc.js';
import { NODE_LABELS, instanceFilter } from './labels.js';
import { PodWorker, podRef, type Adoptable } from './pod-worker.js';
import { now } from './status.js';
import { ExitMonitor } from './exits.js';
import { releaseVolumes } from './volumes.js';
import { admissionFailure, nodeModel, unschedulableMessage, type NodeModel } from './scheduling.js';

/**
 * The kubelet gives a pod's containers at least 1 s to stop after SIGTERM, also when the pod
 * was force-deleted (grace 0: the object is gone at once, its containers run on for that
 * second): pkg/kubelet/pod_workers.go calculateEffectiveGracePeriod ("no matter what, we
 * always supply a grace period of 1").
 */
const MIN_GRACE_SECONDS = 1;

const isTerminal = (pod: KObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * Scheduler and kubelet of the single node: assigns pods to the node, runs one
 * PodWorker per pod, handles graceful deletion, and re-adopts the Docker
 * containers of a previous run of the server.
 */
export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  /** Containers found at start, by pod uid, not yet handed to a worker: the newest of each of the pod's containers. */
  private adoptable = new Map<string, Adoptable>();
  /**
   * All containers found at start, by pod uid, not yet handed to a worker or removed: the
   * node's one list of the engine; from then on each worker knows its pod's containers.
   */
  private readonly found = new Map<string, Dockerode.ContainerInfo[]>();
  private unsubscribe?: () => void;
  private readonly exits: ExitMonitor;
  private readonly node: NodeModel;
  private stopped = false;

  constructor(private readonly ctx: ClusterContext) {
    this.exits = new ExitMonitor(ctx.docker, ctx.instanceId);
    this.node = nodeModel(ctx.nodeName, ctx.nodeOptions);
  }

  async start(): Promise<void> {
    await this.exits.start();
    const existing = await this.ctx.docker.listContainers({ all: true, filters: { label: [instanceFilter(this.ctx.instanceId)] } });
    const pods = this.ctx.store.list('pods');
    const uids = new Set(pods.map((p) => p.metadata.uid));
    for (const container of existing) {
      const uid = container.Labels[NODE_LABELS.uid];
      const name = container.Labels[NODE_LABELS.container];
      if (!uid || !name) continue;
      if (!uids.has(uid)) {
        await this.ctx.docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
        continue;
      }
      this.found.set(uid, [...(this.found.get(uid) ?? []), container]);
      const byName = this.adoptable.get(uid) ?? new Map<string, Dockerode.ContainerInfo>();
      const previous = byName.get(name);
      const count = (c: Dockerode.ContainerInfo) => Number(c.Labels[NODE_LABELS.restartCount] ?? 0);
      if (!previous || count(container) > count(previous)) byName.set(name, container);
      this.adoptable.set(uid, byName);
    }
    const unsubscribeStore = this.ctx.store.subscribe((event) => this.onEvent(event));
    const unsubscribeRecovery = this.ctx.partition?.onNodeRecovered(() => queueMicrotask(() => this.catchUp())) ?? (() => {});
    this.unsubscribe = () => {
      unsubscribeStore();
      unsubscribeRecovery();
    };
    for (const pod of pods) this.handle(pod);
  }

  /**
   * A lost node came back: it reports what its pods did meanwhile, then acts on what it
   * missed (new pods, deletions, pods force-deleted while it was away).
   */
  private catchUp(): void {
    if (this.stopped) return;
    for (const worker of this.workers.values()) worker.resync();
    const pods = this.ctx.store.list('pods');
    const present = new Set(pods.map((pod) => pod.metadata.uid));
    for (const [uid, worker] of this.workers) {
      if (present.has(uid)) continue;
      this.workers.delete(uid);
      void worker.terminate(MIN_GRACE_SECONDS, false).catch(() => undefined);
    }
    for (const pod of pods) this.handle(pod);
  }

  private onEvent(event: StoreEvent): void {
    // Store listeners run inside the store's write; act after it returns.
    queueMicrotask(() => {
      // A lost node hears nothing; it catches up when it comes back.
      if (this.stopped || this.ctx.partition?.nodeLost === true) return;
      if (event.resource === 'pods') {
        if (event.type === 'DELETED') this.forget(event.object);
        else this.handle(event.object);
        // A pod that went away, or ended, frees its resources: pending pods may fit now.
        if (event.type === 'DELETED' || isTerminal(event.object)) this.retryPending();
      } else if (['persistentvolumeclaims', 'secrets', 'configmaps'].includes(event.resource)) {
        for (const worker of this.workers.values()) worker.kick();
        // A claim that bound may let a pod waiting for it be scheduled.
        if (event.resource === 'persistentvolumeclaims') for (const pod of this.ctx.store.list('pods', event.object.metadata.namespace, undefined, (p) => !p.spec?.nodeName)) this.handle(pod);
      }
    });
  }

  /**
   * The scheduler's VolumeBinding plugin: a claim of a WaitForFirstConsumer class gets the
   * chosen node (selected-node annotation) and the pod is bound to the node only once
   * every such claim is Bound (pkg/scheduler/framework/plugins/volumebinding PreBind).
   * True when the pod can be bound now.
   */
  private volumesReady(pod: KObject): boolean {
    let ready = true;
    for (const volume of pod.spec?.volumes ?? []) {
      const claimName = volume?.persistentVolumeClaim?.claimName;
      const claim = claimName ? this.ctx.store.get('persistentvolumeclaims', pod.metadata.namespace, claimName) : undefined;
      if (!claim) continue;
      if (waitsForConsumer(this.ctx, claim)) {
        this.ctx.store.update('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, (c) => {
          c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [SELECTED_NODE]: this.ctx.nodeName };
        });
      }
      const current = this.ctx.store.get('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name);
      if (current?.metadata.annotations?.[SELECTED_NODE] && current.status?.phase !== 'Bound') ready = false;
    }
    return ready;
  }

  /**
   * Pods not bound to the node yet, tried again (the scheduler's unschedulable queue after a
   * cluster event). Only those are copied out of the store: this runs on every pod that ends
   * or goes, so a copy of every pod would make a thousand pods' ends cost a million copies.
   */
  private retryPending(): void {
    for (const pod of this.ctx.store.list('pods', undefined, undefined, (p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp)) this.schedule(pod);
  }

  /** Pods bound to the node that still hold resources (not terminal, not `except`); finished pods are never copied. */
  private podsOnNode(except: KObject, admittedOnly: boolean): KObject[] {
    return this.ctx.store.list(
      'pods',
      undefined,
      undefined,
      (p) => p.spec?.nodeName === this.ctx.nodeName && p.metadata.uid !== except.metadata.uid && !isTerminal(p) && (!admittedOnly || this.workers.has(p.metadata.uid)),
    );
  }

  /**
   * A pod the filters keep off the node stays Pending with `PodScheduled=False`,
   * `Unschedulable` and the FitError message, and a `FailedScheduling` event (once per
   * message), as the scheduler's failure handler writes them (pkg/scheduler/schedule_one.go
   * `handleSchedulingFailure`).
   */
  private markUnschedulable(pod: KObject, message: string): void {
    const current = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.message === message) return;
    const updated = this.ctx.store.update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      if (p.metadata.uid !== pod.metadata.uid || p.spec.nodeName) return;
      p.status ??= {};
      p.status.phase ??= 'Pending';
      const conditions = (p.status.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      p.status.conditions = [...conditions, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now() }];
    });
    if (updated) this.ctx.recordEvent(updated, 'Warning', 'FailedScheduling', message);
  }

  /**
   * The kubelet's admission refused the pod: phase Failed with the reason and "Pod was
   * rejected: <message>", no container statuses, and a Warning event with the reason
   * (pkg/kubelet/kubelet.go `rejectPod`).
   */
  private reject(pod: KObject, failure: { reason: string; message: string }): void {
    const updated = this.ctx.store.update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      if (p.metadata.uid !== pod.metadata.uid) return;
      p.status = { ...(p.status ?? {}), phase: 'Failed', reason: failure.reason, message: `Pod was rejected: ${failure.message}` };
    });
    if (updated) this.ctx.recordEvent(updated, 'Warning', failure.reason, failure.message);
  }

  private schedule(pod: KObject): void {
    const unfit = unschedulableMessage(pod, this.node, this.podsOnNode(pod, false));
    if (unfit !== undefined) return this.markUnschedulable(pod, unfit);
    if (!this.volumesReady(pod)) return;
    const updated = this.ctx.store.update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      if (p.metadata.uid !== pod.metadata.uid || p.spec.nodeName) return;
      p.spec.nodeName = this.ctx.nodeName;
      p.status ??= {};
      const conditions = (p.status.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      p.status.conditions = [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }];
    });
    if (updated?.spec.nodeName === this.ctx.nodeName) {
      this.ctx.recordEvent(updated, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${this.ctx.nodeName}`);
    }
  }

  private handle(pod: KObject): void {
    if (!pod.spec?.nodeName) {
      if (!pod.metadata.deletionTimestamp) this.schedule(pod);
      return;
    }
    if (pod.spec.nodeName !== this.ctx.nodeName) return;
    const uid = pod.metadata.uid;
    let worker = this.workers.get(uid);
    if (pod.metadata.deletionTimestamp) {
      const grace = Math.max(MIN_GRACE_SECONDS, Number(pod.metadata.deletionGracePeriodSeconds ?? 0));
      if (!worker) {
        // Nothing runs it (terminal before a restart): clean up and let it go.
        void this.cleanupAndRemove(pod).catch(() => undefined);
        return;
      }
      worker.update(pod);
      void worker
        .terminate(grace, true)
        .catch(() => undefined)
        .finally(() => this.workers.delete(uid));
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    if (isTerminal(pod)) return;
    const refused = admissionFailure(pod, this.node, this.podsOnNode(pod, true));
    if (refused !== undefined) return this.reject(pod, refused);
    worker = new PodWorker(this.ctx, pod, this.adoptable.get(uid) ?? new Map(), this.exits, this.found.get(uid));
    this.adoptable.delete(uid);
    this.found.delete(uid);
    this.workers.set(uid, worker);
    worker.start();
  }

  /**
   * Removes the Docker containers and logs of a pod no worker runs: those the node found at its
   * start (a pod that had ended before it); a pod never run by this node has none.
   */
  private async removeFound(pod: KObject): Promise<void> {
    const found = this.found.get(pod.metadata.uid) ?? [];
    this.found.delete(pod.metadata.uid);
    this.adoptable.delete(pod.metadata.uid);
    await Promise.all(found.map((c) => this.ctx.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    this.ctx.containerLogs.removePod(podRef(pod));
  }

  private async cleanupAndRemove(pod: KObject): Promise<void> {
    await this.removeFound(pod);
    await releaseVolumes(this.ctx, pod);
    const current = this.ctx.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (current?.metadata.uid === pod.metadata.uid) this.ctx.store.remove('pods', pod.metadata.namespace, pod.metadata.name);
  }

  /** The pod left the store (forced delete): its containers still get the minimal grace, then are removed. */
  private forget(pod: KObject): void {
    const worker = this.workers.get(pod.metadata.uid);
    this.workers.delete(pod.metadata.uid);
    if (worker) void worker.terminate(MIN_GRACE_SECONDS, false).catch(() => undefined);
    else void this.removeFound(pod).then(() => releaseVolumes(this.ctx, pod)).catch(() => undefined);
  }

  /** Stops all workers; containers keep running unless `removeContainers`. */
  async stop(removeContainers: boolean): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const worker of this.workers.values()) worker.detach();
    this.workers.clear();
    this.exits.stop();
    if (!removeContainers) return;
    const filter = { label: [instanceFilter(this.ctx.instanceId)] };
    const containers = await this.ctx.docker.listContainers({ all: true, filters: filter }).catch(() => []);
    await Promise.all(containers.map((c) => this.ctx.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    const volumes = await this.ctx.docker.listVolumes({ filters: filter }).catch(() => ({ Volumes: [] }));
    await Promise.all((volumes.Volumes ?? []).map((v) => this.ctx.docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined)));
  }
}
