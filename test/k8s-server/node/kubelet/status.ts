import type { KObject } from '../../api.js';
import type { ComponentProfile } from '../../profile/profile.js';

/** One container's state, exactly one member set, as core/v1 ContainerState. */
export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; signal?: number; reason: string; message?: string; startedAt: string; finishedAt: string; containerID?: string };
}

/** What the kubelet knows about one container of a pod. */
export interface ContainerRecord {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
  started: boolean;
  /** An init container with restartPolicy Always run as a sidecar (where the kubelet has SidecarContainers). */
  restartable?: boolean;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The pod status a kubelet would write, computed from the container records.
 * Conditions keep their lastTransitionTime while their status does not change.
 */
export class PodStatusModel {
  readonly init: ContainerRecord[];
  readonly app: ContainerRecord[];
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' = 'Pending';
  reason?: string;
  message?: string;
  sandboxReady = false;
  startTime?: string;
  private conditions = new Map<string, Condition>();

  /** What the kubelet's version and gates put in a pod's status. */
  private readonly features: { readyToStart: boolean; hostIPs: boolean; volumeMounts: boolean };

  /** `kubelet`: the kubelet's version and gates (sidecars, conditions and fields of the status). */
  constructor(private readonly pod: KObject, previous: any, kubelet: ComponentProfile) {
    const sidecars = kubelet.enabled('SidecarContainers');
    this.features = {
      // pkg/kubelet/kubelet_pods.go generateAPIPodStatus: the condition with PodReadyToStartContainersCondition (KEP-3085).
      readyToStart: kubelet.enabled('PodReadyToStartContainersCondition'),
      // status.hostIPs with PodHostIPs (KEP-2681), GA in 1.30, the gate gone from 1.32.
      hostIPs: kubelet.minor >= 32 || kubelet.enabled('PodHostIPs'),
      // convertToAPIContainerStatuses: containerStatuses[].volumeMounts with RecursiveReadOnlyMounts (KEP-3857).
      volumeMounts: kubelet.enabled('RecursiveReadOnlyMounts'),
    };
    const record = (c: any, waitingReason: string): ContainerRecord => ({
      name: c.name,
      image: c.image,
      imageID: '',
      restartCount: 0,
      state: { waiting: { reason: waitingReason } },
      lastState: {},
      started: false,
    });
    const hasInit = (pod.spec.initContainers ?? []).length > 0;
    this.init = (pod.spec.initContainers ?? []).map((c: any) => ({ ...record(c, 'PodInitializing'), ...(sidecars && c.restartPolicy === 'Always' ? { restartable: true } : {}) }));
    this.app = (pod.spec.containers ?? []).map((c: any) => record(c, hasInit ? 'PodInitializing' : 'ContainerCreating'));
    if (this.init[0]) this.init[0].state = { waiting: { reason: 'ContainerCreating' } };
    // After a server restart, carry on from what was reported, until the containers are re-adopted.
    const before = [...(previous?.containerStatuses ?? []), ...(previous?.initContainerStatuses ?? [])];
    for (const record of [...this.init, ...this.app]) {
      const old = before.find((c: any) => c.name === record.name && c.containerID);
      if (!old) continue;
      Object.assign(record, { imageID: old.imageID ?? '', containerID: old.containerID, restartCount: old.restartCount ?? 0, state: old.state, lastState: old.lastState ?? {}, started: Boolean(old.started) });
      if (old.state?.running) this.sandboxReady = true;
    }
    for (const c of previous?.conditions ?? []) this.conditions.set(c.type, c);
    if (previous?.startTime) this.startTime = previous.startTime;
  }

  find(name: string): ContainerRecord | undefined {
    return this.app.find((c) => c.name === name) ?? this.init.find((c) => c.name === name);
  }

  private setCondition(type: string, ok: boolean, reason?: string, message?: string): void {
    const previous = this.conditions.get(type);
    const status = ok ? 'True' : 'False';
    const next: Condition = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : now(),
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    };
    this.conditions.set(type, next);
  }

  private isRunning(c: ContainerRecord): boolean {
    return Boolean(c.state.running);
  }

  /** Running and past its startup probe, if it has one (pkg/kubelet/prober/prober_manager.go UpdatePodStatus). */
  private isStarted(c: ContainerRecord): boolean {
    return this.isRunning(c) && c.started;
  }

  /** The `status` object to store. */
  build(previousStatus: any, podIP: string): any {
    const terminal = this.phase === 'Succeeded' || this.phase === 'Failed';
    if (this.features.readyToStart) this.setCondition('PodReadyToStartContainers', this.sandboxReady);
    // A sidecar counts once it has started (its startup probe passed); a regular init container once it
    // succeeded (pkg/kubelet/status/generate.go GeneratePodInitializedCondition).
    const initPending = this.init.filter((c) => (c.restartable ? !(this.isStarted(c) || c.state.terminated || c.restartCount > 0) : c.state.terminated?.exitCode !== 0)).map((c) => c.name);
    if (this.phase === 'Succeeded') this.setCondition('Initialized', true, 'PodCompleted');
    else if (initPending.length === 0) this.setCondition('Initialized', true);
    else this.setCondition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${initPending.join(' ')}]`);
    // Sidecars count for readiness like regular containers (GenerateContainersReadyCondition).
    const unready = [...this.init.filter((c) => c.restartable), ...this.app].filter((c) => !this.isStarted(c)).map((c) => c.name);
    if (terminal) {
      const reason = this.phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
      this.setCondition('ContainersReady', false, reason);
      this.setCondition('Ready', false, reason);
    } else if (unready.length === 0) {
      this.setCondition('ContainersReady', true);
      this.setCondition('Ready', true);
    } else {
      const message = `containers with unready status: [${unready.join(' ')}]`;
      this.setCondition('ContainersReady', false, 'ContainersNotReady', message);
      this.setCondition('Ready', false, 'ContainersNotReady', message);
    }
    this.setCondition('PodScheduled', true);
    const order = [...(this.features.readyToStart ? ['PodReadyToStartContainers'] : []), 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
    const specs: any[] = [...(this.pod.spec.initContainers ?? []), ...(this.pod.spec.containers ?? [])];
    // name, mountPath, readOnly; a read-only mount's recursiveReadOnly (Disabled: not asked for).
    const volumeMounts = (c: ContainerRecord) =>
      (specs.find((spec) => spec.name === c.name)?.volumeMounts ?? []).map((m: any) => ({ name: m.name, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}) }));
    // A regular container still waiting when an initialized pod ended never ran: the kubelet
    // reports it terminated, 137, ContainerStatusUnknown, with zero times (pkg/kubelet/status/
    // status_manager.go TerminatePod); init containers that never started keep waiting.
    const initialized = initPending.length === 0;
    const stateOf = (c: ContainerRecord): unknown =>
      terminal && initialized && c.state.waiting && this.app.includes(c)
        ? { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: null, finishedAt: null } }
        : c.state;
    const toStatus = (c: ContainerRecord) => ({
      name: c.name,
      image: c.image,
      imageID: c.imageID,
      ...(c.containerID ? { containerID: c.containerID } : {}),
      // No readiness probe is run here: a started container is ready.
      ready: this.isStarted(c) && !terminal,
      started: this.isStarted(c),
      restartCount: c.restartCount,
      state: stateOf(c),
      lastState: c.lastState,
      ...(this.features.volumeMounts && c.containerID && volumeMounts(c).length ? { volumeMounts: volumeMounts(c) } : {}),
    });
    return {
      ...(previousStatus?.qosClass ? { qosClass: previousStatus.qosClass } : {}),
      phase: this.phase,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.message ? { message: this.message } : {}),
      conditions: order.map((t) => this.conditions.get(t)).filter(Boolean),
      hostIP: '10.0.0.1',
      ...(this.features.hostIPs ? { hostIPs: [{ ip: '10.0.0.1' }] } : {}),
      ...(this.sandboxReady || terminal ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      ...(this.init.length ? { initContainerStatuses: this.init.map(toStatus) } : {}),
      containerStatuses: this.app.map(toStatus),
    };
  }
}

/** A fake but stable pod IP derived from the uid; nothing ever sends traffic to it. */
export function fakePodIP(uid: string): string {
  const hex = uid.replace(/[^0-9a-f]/g, '');
  const byte = (i: number) => parseInt(hex.slice(i, i + 2) || '0', 16);
  return `10.244.${byte(0)}.${(byte(2) % 253) + 2}`;
}
