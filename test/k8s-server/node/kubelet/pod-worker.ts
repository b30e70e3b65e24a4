import type Dockerode from 'dockerode';
import type { ClusterContext, KObject } from '../../api.js';
import { NODE_LABELS } from './labels.js';
import { PodContainers } from './pod-containers.js';
import { PodStatusModel, fakePodIP, now, type ContainerRecord } from './status.js';
import { prepareVolumes, releaseVolumes, VolumePendingError } from './volumes.js';
import { startContainer, terminatedState, type RunEnv } from './container-run.js';
import type { ExitMonitor } from './exits.js';
import { Waker, backoffMs } from './wake.js';
import type { VolumeSources } from './spec.js';
import type { LogOwner } from '../logs/container-logs.js';
import { needsNetworkHolder, startNetworkHolder, stopNetworkHolder, NETWORK_HOLDER } from './network.js';
import { probeTiming, runProbe } from './probes.js';

/**
 * How long an exit waits for the container's output to reach its log before it is reported
 * anyway, in milliseconds: containerd's handleEventTimeout (internal/cri/server/events.go).
 */
const OUTPUT_COPY_MS = 10_000;

/** Docker containers found for a pod when the node (re)starts, by container name. */
export type Adoptable = Map<string, Dockerode.ContainerInfo>;

/** A run that lasted this long resets the crash back-off, as in a kubelet. */
const BACKOFF_RESET_MS = 600_000;

/**
 * Runs one pod on Docker: volumes, init containers in order, app containers with
 * the restart policy, activeDeadlineSeconds, graceful termination. Writes the
 * status to the store on every change.
 */
export class PodWorker {
  private readonly lifecycle = new AbortController();
  /** Aborted when the node stops: long Docker requests end and nothing more is written. */
  private readonly shutdown = new AbortController();
  private readonly waker = new Waker();
  /** Aborted once the regular containers are done: sidecars are not restarted any more. */
  private readonly sidecarsStop = new AbortController();
  private readonly model: PodStatusModel;
  private readonly podIP: string;
  private latest: KObject;
  private running?: Promise<void>;
  private terminating?: Promise<void>;
  private deadlineTimer?: NodeJS.Timeout;
  private deadlineExceeded = false;
  private graceSeconds = Number.POSITIVE_INFINITY;
  private lastEvent = new Map<string, string>();
  /** The Docker container holding the pod's network namespace, when the pod has one. */
  private networkHolder: string | undefined;
  /** Containers that had started before this worker existed (a previous run of the server), by name. */
  private readonly startedBefore: Set<string>;
  /** Every Docker container of the pod, made here or found at the node's start. */
  private readonly containers: PodContainers;

  /**
   * `adoptable`: the newest Docker container of each of the pod's containers found when the
   * node started; `found`: all the pod's Docker containers found then (older runs too).
   */
  constructor(private readonly ctx: ClusterContext, pod: KObject, private readonly adoptable: Adoptable, private readonly exits: ExitMonitor, found: readonly Dockerode.ContainerInfo[] = []) {
    this.containers = new PodContainers(found);
    this.latest = pod;
    this.model = new PodStatusModel(pod, pod.status, ctx.profile.kubelet);
    this.podIP = fakePodIP(pod.metadata.uid);
    const previous = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    this.startedBefore = new Set(previous.filter((c: any) => c.containerID).map((c: any) => c.name));
  }

  get uid(): string {
    return this.latest.metadata.uid;
  }

  /** The newest version of the pod seen by the kubelet. */
  update(pod: KObject): void {
    this.latest = pod;
  }

  /** Something the pod may be waiting for changed (a claim, a secret): retry now. */
  kick(): void {
    this.waker.wake();
  }

  start(): void {
    this.running = this.run().catch((error) => {
      this.event('Warning', 'Failed', `Error: ${(error as Error).message}`);
    });
  }

  /** A lost node reaches nothing: no status, no events (see `Faults.loseNode`). */
  private get cutOff(): boolean {
    return this.ctx.partition?.nodeLost === true;
  }

  /** The node is back: report the pod's current state. */
  resync(): void {
    this.flush();
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.cutOff) return;
    // Repeated identical waiting events (each retry) are recorded once, as a kubelet aggregates them.
    if (this.lastEvent.get(reason) === message && type === 'Warning') return;
    this.lastEvent.set(reason, message);
    this.ctx.recordEvent(this.latest, type, reason, message);
  }

  private flush = (): void => {
    if (this.shutdown.signal.aborted || this.cutOff) return;
    if (this.model.phase === 'Pending' || this.model.phase === 'Running') {
      const begun = this.model.app.some((c) => c.state.running || c.state.terminated || c.restartCount > 0 || c.state.waiting?.reason === 'CrashLoopBackOff');
      this.model.phase = begun ? 'Running' : 'Pending';
    }
    const { namespace, name } = this.latest.metadata;
    try {
      const updated = this.ctx.store.update('pods', namespace, name, (pod) => {
        if (pod.metadata.uid !== this.uid) return;
        pod.status = this.model.build(pod.status, this.podIP);
      });
      if (updated && updated.metadata.uid === this.uid) this.latest = updated;
    } catch {
      // The store refused the write (it is shutting down): the next change writes the full status again.
    }
  };

  private get signal(): AbortSignal {
    return this.lifecycle.signal;
  }

  private async run(): Promise<void> {
    const pod = this.latest;
    this.model.startTime ??= now();
    this.flush();
    this.armDeadline();
    let volumes: VolumeSources | undefined;
    while (!this.signal.aborted && !volumes) {
      try {
        volumes = await prepareVolumes(this.ctx, this.latest);
      } catch (error) {
        if (!(error instanceof VolumePendingError)) throw error;
        this.event('Warning', error.reason, error.message);
        await this.waker.wait(30_000, this.signal);
      }
    }
    if (!volumes) return this.finish();
    if (needsNetworkHolder(pod)) {
      const adopted = this.adoptable.get(NETWORK_HOLDER);
      this.adoptable.delete(NETWORK_HOLDER);
      this.networkHolder = await startNetworkHolder(this.ctx, pod, adopted, this.containers);
    }
    this.model.sandboxReady = true;
    this.flush();
    const env: RunEnv = { ctx: this.ctx, pod: () => this.latest, volumes, podIP: this.podIP, networkHolder: this.networkHolder, containers: this.containers, signal: this.signal, waker: this.waker, flush: this.flush, event: (t, r, m) => this.event(t, r, m) };
    const policy: string = pod.spec.restartPolicy ?? 'Always';
    const sidecars: Array<{ record: ContainerRecord; run: Promise<boolean> }> = [];
    for (const [index, spec] of (pod.spec.initContainers ?? []).entries()) {
      const record = this.model.init[index]!;
      if (record.restartable) {
        // A sidecar: the next init container starts once it runs; it restarts whatever the
        // pod's policy until the regular containers are done (KEP-753).
        let started!: (ok: boolean) => void;
        const running = new Promise<boolean>((resolve) => (started = resolve));
        const run = this.runContainer(env, spec, record, 'Always', { onStarted: () => started(true), stopped: () => this.sidecarsStop.signal.aborted });
        void run.finally(() => started(false));
        sidecars.push({ record, run });
        if (!(await running)) return this.finish();
      } else {
        const ok = await this.runContainer(env, spec, record, policy === 'Never' ? 'Never' : 'OnFailure');
        if (!ok) return this.finish();
      }
      const next = this.model.init[index + 1];
      if (next) next.state = { waiting: { reason: 'ContainerCreating' } };
    }
    for (const record of this.model.app) record.state = { waiting: { reason: 'ContainerCreating' } };
    this.flush();
    await Promise.all((pod.spec.containers ?? []).map((spec: any, index: number) => this.runContainer(env, spec, this.model.app[index]!, policy)));
    await this.stopSidecars(sidecars);
    this.finish();
  }

  /**
   * The regular containers are done: the sidecars are stopped, the last started first, each
   * with the pod's grace period; their exits do not decide the pod's phase
   * (pkg/kubelet/kuberuntime/kuberuntime_container.go killContainersWithSyncResult, KEP-753).
   */
  private async stopSidecars(sidecars: Array<{ record: ContainerRecord; run: Promise<boolean> }>): Promise<void> {
    if (sidecars.length === 0) return;
    this.sidecarsStop.abort();
    this.waker.wake();
    const grace = Number(this.latest.spec.terminationGracePeriodSeconds ?? 30);
    for (const { record, run } of [...sidecars].reverse()) {
      const id = record.containerID?.replace(/^docker:\/\//, '');
      if (id && record.state.running) await this.ctx.docker.getContainer(id).stop({ t: grace }).catch(() => undefined);
      await run;
    }
  }

  /**
   * Runs a container until the policy says stop; true when it ended with exit 0. `onStarted`
   * is told each time it runs; `stopped` ends restarts besides the pod's own stop.
   */
  private async runContainer(env: RunEnv, spec: any, record: ContainerRecord, policy: string, hooks: { onStarted?: () => void; stopped?: () => boolean } = {}): Promise<boolean> {
    let crashes = 0;
    const stopped = () => this.signal.aborted || (hooks.stopped?.() ?? false);
    for (;;) {
      if (stopped()) return false;
      let id: string | undefined;
      const adopted = this.adoptable.get(spec.name);
      if (adopted) this.startedBefore.delete(spec.name);
      if (adopted && adopted.State === 'created') {
        // Made but never started before the restart: start over cleanly.
        this.adoptable.delete(spec.name);
        await this.ctx.docker.getContainer(adopted.Id).remove({ force: true }).catch(() => undefined);
        this.containers.exited(adopted.Id);
        continue;
      }
      if (adopted) {
        this.adoptable.delete(spec.name);
        id = adopted.Id;
        record.restartCount = Number(adopted.Labels[NODE_LABELS.restartCount] ?? 0);
        record.containerID = `docker://${id}`;
        record.imageID = adopted.ImageID;
        record.started = true;
        if (adopted.State === 'running') {
          record.state = { running: { startedAt: new Date(adopted.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z') } };
          this.flush();
        }
      } else if (this.startedBefore.delete(spec.name)) {
        // It ran before the server restarted and its Docker container is gone: report it lost, as a kubelet does.
        const previous = [...(this.latest.status?.containerStatuses ?? []), ...(this.latest.status?.initContainerStatuses ?? [])].find((c: any) => c.name === spec.name);
        record.restartCount = previous?.restartCount ?? 0;
        record.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located after the node restarted', startedAt: now(), finishedAt: now() } };
        id = '';
      } else {
        id = await startContainer(env, spec, record);
        if (!id) return false;
      }
      const prober = new AbortController();
      if (record.state.running) {
        if (record.started) hooks.onStarted?.();
        else void this.probeStartup(env, spec, record, id, hooks, prober.signal);
      }
      const startedAt = Date.now();
      if (!record.state.terminated) {
        const exit = await this.exits.waitForExit(id, this.shutdown.signal).finally(() => prober.abort());
        if (exit === 'aborted') return false;
        this.containers.exited(id);
        // Exited means its output is in the log: a read that follows the status sees all of it.
        if (exit) await this.ctx.containerLogs.written(id, OUTPUT_COPY_MS, this.shutdown.signal);
        record.state = exit
          ? terminatedState(exit, record.state.running?.startedAt)
          : { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: now(), finishedAt: now() } };
      }
      record.started = false;
      const exitCode = record.state.terminated!.exitCode;
      const restart = !stopped() && (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0));
      if (!restart) {
        this.flush();
        return exitCode === 0;
      }
      crashes = Date.now() - startedAt > BACKOFF_RESET_MS ? 1 : crashes + 1;
      record.lastState = record.state;
      const delay = backoffMs(crashes);
      const ref = `${this.latest.metadata.name}_${this.latest.metadata.namespace}(${this.uid})`;
      record.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${spec.name} pod=${ref}` } };
      this.flush();
      this.event('Warning', 'BackOff', 'Back-off restarting failed container');
      await this.waker.wait(delay, this.signal);
      record.restartCount += 1;
    }
  }

  /**
   * Runs the container's startup probe until it succeeds (the container is then `started`, and
   * `onStarted` lets the next init container start: pkg/kubelet/kuberuntime/kuberuntime_manager.go
   * computeInitContainerActions waits on a sidecar's startup result) or fails `failureThreshold`
   * times in a row (the container is then killed, with the grace period, and restarted as its
   * policy says: computePodActions, "Container … failed startup probe, will be restarted").
   * Probes run every `periodSeconds` after `initialDelaySeconds` (pkg/kubelet/prober/worker.go).
   */
  private async probeStartup(env: RunEnv, spec: any, record: ContainerRecord, id: string, hooks: { onStarted?: () => void }, stop: AbortSignal): Promise<void> {
    const probe = spec.startupProbe;
    const timing = probeTiming(probe);
    const halted = (): boolean => stop.aborted || this.signal.aborted;
    await pause(timing.initialDelayMs, stop);
    for (let failures = 0; !halted(); ) {
      const outcome = await runProbe(this.ctx.docker, probe, spec, { containerId: id, holderId: env.networkHolder }, timing.timeoutMs).catch((error: unknown) => (error as Error).message);
      if (halted()) return;
      if (outcome === true) {
        record.started = true;
        this.flush();
        hooks.onStarted?.();
        return;
      }
      failures += 1;
      this.event('Warning', 'Unhealthy', `Startup probe failed: ${outcome}`);
      if (failures >= timing.failureThreshold) {
        this.event('Normal', 'Killing', `Container ${spec.name} failed startup probe, will be restarted`);
        const grace = Number(probe.terminationGracePeriodSeconds ?? this.latest.spec.terminationGracePeriodSeconds ?? 30);
        await this.ctx.docker.getContainer(id).stop({ t: grace }).catch(() => undefined);
        return;
      }
      await pause(timing.periodMs, stop);
    }
  }

  /** Sets the terminal phase (if the pod reached one) and writes the status. */
  private finish(): void {
    clearTimeout(this.deadlineTimer);
    if (this.terminating) return this.flush();
    const apps = this.model.app;
    const inits = this.model.init;
    if (this.deadlineExceeded) {
      this.model.phase = 'Failed';
      this.model.reason = 'DeadlineExceeded';
      this.model.message = 'Pod was active on the node longer than the specified deadline';
    } else if (inits.some((c) => !c.restartable && c.state.terminated && c.state.terminated.exitCode !== 0)) {
      this.model.phase = 'Failed';
    } else if (apps.length > 0 && apps.every((c) => c.state.terminated)) {
      this.model.phase = apps.every((c) => c.state.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
    } else {
      return this.flush();
    }
    this.model.sandboxReady = false;
    this.flush();
    // A pod that has ended keeps no sandbox (pkg/kubelet/kubelet.go SyncTerminatedPod → KillPod stops it).
    if (this.networkHolder !== undefined) void stopNetworkHolder(this.ctx, this.networkHolder, this.containers);
  }

  /** Phase Running as soon as a container runs (written with the container state). */
  private armDeadline(): void {
    const seconds = this.latest.spec.activeDeadlineSeconds;
    if (typeof seconds !== 'number') return;
    const started = Date.parse(this.model.startTime ?? now());
    const ms = Math.max(0, started + seconds * 1000 - Date.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineExceeded = true;
      this.event('Warning', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
      this.lifecycle.abort();
      this.waker.wake();
      void this.killContainers(0);
    }, ms);
    this.deadlineTimer.unref();
  }

  /**
   * Stops every Docker container of the pod that runs (SIGTERM, SIGKILL after `graceSeconds`)
   * and removes those made but never started, as the worker knows them (see PodContainers).
   */
  private async killContainers(graceSeconds: number): Promise<void> {
    await this.containers.startsSettled();
    await Promise.all(
      this.containers.live().map(async (c) => {
        if (c.container !== NETWORK_HOLDER) this.event('Normal', 'Killing', `Stopping container ${c.container}`);
        const container = this.ctx.docker.getContainer(c.ref);
        if (c.phase === 'created') await container.remove({ force: true }).catch(() => undefined);
        else if (graceSeconds <= 0) await container.kill().catch(() => undefined);
        else await container.stop({ t: graceSeconds }).catch(() => undefined);
        this.containers.exited(c.ref);
      }),
    );
  }

  /** Graceful deletion: stop containers within the grace period, remove them, then remove the pod. Idempotent. */
  terminate(graceSeconds: number, removeFromStore: boolean): Promise<void> {
    // A second, shorter deletion (e.g. --force after a graceful delete) cuts the grace short.
    if (this.terminating && graceSeconds < this.graceSeconds) void this.killContainers(0);
    this.graceSeconds = Math.min(this.graceSeconds, graceSeconds);
    this.terminating ??= (async () => {
      this.lifecycle.abort();
      this.waker.wake();
      await this.killContainers(graceSeconds);
      // Settle the run loop (its waits end once the containers are gone), then sweep anything it made meanwhile.
      // Bounded: cleanup must finish even if a Docker call never answers.
      await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
      await this.killContainers(0);
      await this.containers.removeAll(this.ctx);
      this.ctx.containerLogs.removePod(podRef(this.latest));
      await releaseVolumes(this.ctx, this.latest);
      if (removeFromStore) {
        const current = this.ctx.store.get('pods', this.latest.metadata.namespace, this.latest.metadata.name);
        if (current?.metadata.uid === this.uid) this.ctx.store.remove('pods', this.latest.metadata.namespace, this.latest.metadata.name);
      }
    })();
    return this.terminating;
  }

  /** Stops timers and loops without touching Docker (node shutdown). */
  detach(): void {
    clearTimeout(this.deadlineTimer);
    this.terminating ??= Promise.resolve();
    this.shutdown.abort();
    this.lifecycle.abort();
    this.waker.wake();
  }
}

/** The pod as its logs' directory names it. */
export function podRef(pod: KObject): LogOwner {
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
