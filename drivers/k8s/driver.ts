import type { Readable } from 'node:stream';
import type { KubeConfig, V1Lease, V1Pod } from '@kubernetes/client-node';
import { delay } from '../../src/abort.js';
import { ContainerNotFoundError, EngineError, InvalidInputError } from '../../src/errors.js';
import { DriverLifecycle } from '../../src/kit/lifecycle.js';
import { validateSizeBytes, volumeNameOf } from '../../src/kit/volumes.js';
import { LABELS } from '../../src/labels.js';
import type { CreateVolumeOptions, Driver, DriverCapabilities, OperationOptions, Sandbox, SandboxTask, Task, Volume, VolumeRef } from '../../src/types.js';
import { validateTaskId, validateVolumeName } from '../../src/validate.js';
import { createContext, type K8sContext } from './context.js';
import { deleteJob, findJobPod, readJob } from './jobs.js';
import { claimName, namespaceSelector, TASK_ID_ANNOTATION, taskObjectName } from './naming.js';
import type { ResolvedK8sOptions } from './options.js';
import type { K8sPodObject } from './pod-spec.js';
import { deletePod, getPod, lostRule } from './pods.js';
import { isLost } from './pod-status.js';
import { K8sSandbox } from './sandbox.js';
import { feedStdin, startTask } from './start.js';
import { TaskContainer, type K8sContainer } from './container.js';
import { logStreamSupportFor, type LogStreamSupport } from './log-streams.js';
import { copyToVolume, readFromVolume } from './volume-copy.js';
import { deleteClaim, ensureVolume } from './volumes.js';
import { execInWorkload, type WorkloadExecOptions } from './workload.js';
import { deletePullSecrets, ensurePullSecret } from './pull-secrets.js';
import type { RegistryCredentials } from '../../src/credentials.js';
import type { ContainerStatus } from '../../src/types.js';
import { FULL_CAPABILITIES } from '../../src/capabilities.js';
import { assertSidecars } from './services.js';
import { onTerminal } from './terminal.js';
import { reapInBackground, type ReapOrphansOptions } from '../../src/kit/owner.js';
import { deleteOwnerLease, findOwnerLeases, takeExpiredLease, type FoundOwnerLease } from './owner-lease.js';
import { openNamespaces, OwnerLease } from './process-lease.js';
import { planReap } from './orphan-leases.js';
import { leftObjects, type K8sDetachResult } from './detach.js';
import { claimsOf, planSandbox, planTask, type K8sRenderedTask } from './task-plan.js';
import { holdKeptAliveConnections } from './kept-alive-connections.js';

/** The Kubernetes driver: tasks as Pods (or Jobs), volumes as PersistentVolumeClaims. */
export class K8sDriver implements Driver {
  readonly name = 'k8s';
  readonly capabilities: DriverCapabilities = FULL_CAPABILITIES;
  private readonly ctx: K8sContext;
  private readonly logSupport: LogStreamSupport;
  private readonly life: DriverLifecycle;
  private readonly owner: OwnerLease;
  /** `detach` ends this driver: its sweep leaves everything (see {@link K8sDriver.detach}). */
  private detaching = false;
  private detached: K8sDetachResult | undefined;
  /** Lets go of the cluster's kept-alive connections, at the end of the close (or detach). */
  private readonly releaseConnections: () => void;

  constructor(private readonly kc: KubeConfig, private readonly options: ResolvedK8sOptions) {
    this.life = new DriverLifecycle({ driver: this.name, namespace: options.namespace, closeTimeoutMs: options.closeTimeoutMs, logger: options.logger, reap: (signal) => this.reap(signal) });
    this.ctx = createContext(kc, options, this.life);
    this.logSupport = logStreamSupportFor(kc, options.splitLogStreams);
    this.owner = new OwnerLease(this.ctx);
    this.releaseConnections = holdKeptAliveConnections(kc);
    if (options.reapOrphans) void reapInBackground(`k8s:${kc.getCurrentCluster()?.server ?? ''}/${this.ctx.ns}`, (signal) => this.reapOrphans({ signal }), options.logger);
  }

  /**
   * Reaps the drivetrain namespaces of the Kubernetes namespace that every owner Lease naming
   * them has stopped renewing (`renewTime` + `leaseDurationSeconds` past), never one of a driver
   * open in this process: each expired Lease is taken over only as it was read (a renewal
   * meanwhile wins), then everything labelled with each namespace it alone (or with other
   * expired Leases) names is deleted, and the Leases taken last.
   * With `unowned`, also the drivetrain namespaces with pods or claims and no Lease at all.
   * Resolves with the namespaces reaped.
   */
  async reapOrphans(options: ReapOrphansOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    const found = await findOwnerLeases(this.ctx, options.signal);
    const unowned = options.unowned === true ? { labelled: await this.labelledNamespaces(options.signal) } : undefined;
    const plan = planReap(found, openNamespaces(this.kc, this.ctx.ns).add(this.namespace), Date.now(), unowned);
    const taken = new Map<FoundOwnerLease, V1Lease>();
    for (const entry of plan.expired) {
      const lease = await takeExpiredLease(this.ctx, entry.lease, Math.ceil(this.options.closeTimeoutMs / 1000), options.signal);
      if (lease !== undefined) taken.set(entry, lease);
    }
    const reaped: string[] = [];
    for (const { namespace, naming } of plan.orphans) {
      // A Lease renewed since it was read keeps the namespace.
      if (!naming.every((lease) => taken.has(lease))) continue;
      await new K8sDriver(this.kc, { ...this.options, namespace, ownerRecord: false, reapOrphans: false }).close({ signal: options.signal });
      reaped.push(namespace);
    }
    // Last: a reap that failed midway leaves the Leases it took to expire again, for the next reaper.
    for (const lease of taken.values()) await deleteOwnerLease(this.ctx, lease, options.signal);
    return reaped;
  }

  /** The drivetrain namespaces with pods or claims in the Kubernetes namespace. */
  private async labelledNamespaces(signal: AbortSignal | undefined): Promise<Set<string>> {
    const ctx = this.ctx;
    const labelSelector = `${LABELS.managed}=true`;
    const [pods, claims] = await Promise.all([
      ctx.call('list pods', () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector }), signal),
      ctx.call('list volume claims', () => ctx.core.listNamespacedPersistentVolumeClaim({ namespace: ctx.ns, labelSelector }), signal),
    ]);
    const namespaces = [...pods.items, ...claims.items].map((item) => item.metadata?.labels?.[LABELS.namespace]);
    return new Set(namespaces.filter((namespace): namespace is string => namespace !== undefined));
  }

  get namespace(): string {
    return this.options.namespace;
  }

  /** The Kubernetes namespace objects are made in. */
  get kubernetesNamespace(): string {
    return this.ctx.ns;
  }

  /**
   * The exec/attach subprotocol the API server negotiated with this driver (`v5.channel.k8s.io`
   * where stdin can be closed, `v4.channel.k8s.io` on 1.28/1.29), once an exec has run;
   * `undefined` before.
   */
  get execProtocol(): string | undefined {
    return this.ctx.execProtocol.current;
  }

  /**
   * The name of the Kubernetes object the driver makes for task `id` — its Job in job mode,
   * else its Pod (a sandbox's pod too) — as `kubectl get pod|job` shows it:
   * `dt-<namespace>--<id>`, the ID sanitised to fit (see docs/drivers/k8s.md, Names and
   * labels). The very name `runContainer` and `startSandbox` create; contacts nothing. A Job's
   * pod is named by the Job controller: read it from the container's `podName`.
   * @throws InvalidInputError when `id` is not a valid task ID.
   */
  taskObjectName(id: string): string {
    validateTaskId(id, 'id');
    return taskObjectName(this.namespace, id);
  }

  /**
   * The name of the PersistentVolumeClaim of volume `name` (`dt-<namespace>--vol-<name>`,
   * sanitised to fit): the claim `createVolume` and a task's mounts create. Contacts nothing.
   * @throws InvalidInputError when `name` is not a valid volume name.
   */
  volumeClaimName(name: string): string {
    validateVolumeName(name, 'name');
    return claimName(this.namespace, name);
  }

  /**
   * What `runContainer(task)` would create, without contacting the cluster: the task's Pod, or
   * its Job in job mode, and the claims of its volumes (created when absent). Built by the
   * same code as a real start, with the same validation: a task `runContainer` refuses before
   * creating anything throws the same error here. What only the cluster can tell is not
   * checked (whether it keeps sidecar containers, for a task with services; admission).
   * The objects are the caller's own copies. Works on a closed driver too.
   */
  renderTask(task: Task): K8sRenderedTask {
    const { resolved, object } = planTask(task, this.options);
    return structuredClone({ object, volumeClaims: claimsOf(this.ctx, resolved.mounts) });
  }

  /** What `startSandbox(task)` would create, as {@link renderTask} says: always a Pod. */
  renderSandbox(task: SandboxTask): K8sRenderedTask<K8sPodObject> {
    const { resolved, object } = planSandbox(task, this.options);
    return structuredClone({ object, volumeClaims: claimsOf(this.ctx, resolved.mounts) });
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<K8sContainer> {
    this.life.assertOpen();
    const { resolved, tty, object } = planTask(task, this.options);
    // Concurrent calls with one ID in this process share one start (and one stdin attach).
    return this.life.start({ taskId: resolved.id, role: 'task', image: resolved.image }, options.signal, async (scope) => {
      if (resolved.services.length > 0) await assertSidecars(this.ctx, scope.signal);
      await this.owner.ensure();
      for (const mount of resolved.mounts) await ensureVolume(this.ctx, mount.volume, undefined, scope.signal);
      const started = await startTask(this.ctx, object, resolved.id, 'task', resolved.image, scope.signal, scope.waiting, resolved.services);
      if (!started.created) scope.adopted();
      if (started.created && (resolved.stdin !== undefined || resolved.tty !== undefined)) {
        // Streamed in the background: the process reads it as it goes. A terminal gets its sizes through the same attach.
        const terminal = resolved.tty === undefined ? undefined : { size: resolved.tty, ...(resolved.terminalSizes === undefined ? {} : { sizes: resolved.terminalSizes }) };
        feedStdin(this.ctx, started.podName, resolved.stdin, this.life.lifetime, terminal).catch(() => {});
      }
      return new TaskContainer(this.ctx, resolved.id, started.podName, this.logSupport, started.jobName, tty);
    });
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<K8sContainer> {
    this.life.assertOpen();
    validateTaskId(id, 'id');
    const name = taskObjectName(this.namespace, id);
    if (this.options.mode === 'job') {
      const job = await readJob(this.ctx, name, options.signal);
      if (job === undefined || job.metadata?.annotations?.[TASK_ID_ANNOTATION] !== id) throw new ContainerNotFoundError(id, { namespace: this.namespace });
      const podName = await findJobPod(this.ctx, id, 10_000, options.signal);
      if (podName === undefined) throw new ContainerNotFoundError(id, { namespace: this.namespace });
      // Reattached to: this driver's close removes the Job and its pod as if it had made them.
      this.ctx.made.note('jobs');
      this.ctx.made.note('pods');
      await this.owner.ensure();
      return new TaskContainer(this.ctx, id, podName, this.logSupport, name, onTerminal(job.spec?.template.spec));
    }
    const pod = await getPod(this.ctx, name, options.signal);
    if (pod === undefined || pod.metadata?.annotations?.[TASK_ID_ANNOTATION] !== id || pod.metadata.labels?.[LABELS.role] !== 'task') {
      throw new ContainerNotFoundError(id, { namespace: this.namespace });
    }
    // A fresh process that reattaches names the namespace in its own Lease within the old one's grace; its close removes the pod.
    this.ctx.made.note('pods');
    await this.owner.ensure();
    return new TaskContainer(this.ctx, id, name, this.logSupport, undefined, onTerminal(pod.spec));
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    this.life.assertOpen();
    validateVolumeName(name, 'name');
    await this.owner.ensure();
    return ensureVolume(this.ctx, name, validateSizeBytes(options.sizeBytes), this.life.scope(options.signal));
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    this.life.assertOpen();
    if (tar === null || typeof tar !== 'object' || typeof (tar as Readable).pipe !== 'function') throw new InvalidInputError('tar', 'a Readable tar stream', tar);
    await this.owner.ensure();
    await copyToVolume(this.ctx, volumeNameOf(volume), tar, this.life.scope(options.signal));
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    this.life.assertOpen();
    return readFromVolume(this.ctx, volumeNameOf(volume), undefined, this.life.scope(options.signal));
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    this.life.assertOpen();
    if (!Array.isArray(paths)) throw new InvalidInputError('paths', 'an array of paths relative to the volume root', paths);
    return readFromVolume(this.ctx, volumeNameOf(volume), paths, this.life.scope(options.signal));
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<Sandbox> {
    this.life.assertOpen();
    const { resolved, object } = planSandbox(task, this.options);
    return this.life.start({ taskId: resolved.id, role: 'sandbox', image: resolved.image }, options.signal, async (scope) => {
      if (resolved.services.length > 0) await assertSidecars(this.ctx, scope.signal);
      await this.owner.ensure();
      for (const mount of resolved.mounts) await ensureVolume(this.ctx, mount.volume, undefined, scope.signal);
      const started = await startTask(this.ctx, object, resolved.id, 'sandbox', resolved.image, scope.signal, scope.waiting, resolved.services);
      if (!started.created) scope.adopted();
      return new K8sSandbox(this.ctx, resolved.id, started.podName, resolved.workDir, this.logSupport);
    });
  }

  /**
   * Runs a command in a pod of an existing workload (not made by drivetrain): the first
   * ready pod of `deployment` or `labelSelector`. See {@link WorkloadExecOptions}.
   */
  async execInWorkload(options: WorkloadExecOptions): Promise<ContainerStatus> {
    this.life.assertOpen();
    return execInWorkload(this.ctx, options);
  }

  /**
   * Creates the `kubernetes.io/dockerconfigjson` Secret `name` from registry credentials
   * (one registry or several), for pods to pull with: list `name` in the driver's
   * `imagePullSecrets` option. Idempotent: an existing pull secret of this namespace is
   * updated to these credentials; a Secret of that name made otherwise is a
   * `ConflictError`. Labelled with the namespace: `close` deletes it.
   */
  async createPullSecret(name: string, credentials: RegistryCredentials | readonly RegistryCredentials[], options: OperationOptions = {}): Promise<void> {
    this.life.assertOpen();
    await this.owner.ensure();
    await ensurePullSecret(this.ctx, name, credentials, this.life.scope(options.signal));
  }

  /**
   * Aborts everything in flight and deletes everything labelled with the namespace (any
   * instance's), waiting until it is gone; bounded by `closeTimeoutMs` (see `DriverLifecycle`
   * for how calls share a sweep and what a failed one leaves).
   */
  close(options: OperationOptions = {}): Promise<void> {
    return this.life.close(options);
  }

  /**
   * Lets go of the driver without deleting what it made: it ends as `close` does (every later
   * call throws `DriverClosedError`, starts in flight are aborted and undo what they made, the
   * shared informer is left), but every Job, pod, volume claim and pull secret of the namespace
   * stays as it is — for a scheduler that leaves finished Jobs to `ttlSecondsAfterFinished`.
   * The namespace then leaves the process's owner Lease at once: no Lease names it, so no
   * reaper takes it for an orphan (a later driver's background reap, `drivetrain cleanup
   * --orphans`), whether the process lives on or not; only a user's `cleanup --orphans
   * --unowned`, `cleanup --namespace`, or a driver's `close` of the namespace removes it.
   * Resolves with what it left, each object saying whether Kubernetes removes it by itself (a
   * Job with `ttlSecondsAfterFinished`, and its pods); what nothing will remove is also logged
   * at `warn`. Bounded by `closeTimeoutMs`. The first of `close` and `detach` decides; a later
   * call of either resolves as it did (a `detach` after a `close`: nothing left).
   */
  async detach(options: OperationOptions = {}): Promise<K8sDetachResult> {
    if (!this.life.closed) this.detaching = true;
    await this.life.close(options);
    return structuredClone(this.detached ?? { left: [] });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `detach`'s sweep: lists what is left, then takes the namespace out of the owner Lease at once; deletes nothing. */
  private async letGo(signal: AbortSignal): Promise<void> {
    try {
      const left = await leftObjects(this.ctx, signal);
      const kept = left.filter((object) => !object.removedByKubernetes);
      if (kept.length > 0) {
        const names = kept.map((object) => `${object.kind} ${object.name}`).join(', ');
        this.options.logger?.warn({ namespace: this.namespace, left: kept }, `drivetrain detached from namespace ${this.namespace}, leaving ${kept.length} object(s) nothing will remove: ${names} (\`drivetrain cleanup --namespace ${this.namespace}\` removes them)`);
      }
      await this.owner.leave(signal, true);
      this.detached = { left };
    } finally {
      await this.ctx.watcher.stop();
      this.releaseConnections();
    }
  }

  /** Deletes everything labelled with this drivetrain namespace, then waits until it is gone; `signal` is the close's bound. */
  private async reap(signal: AbortSignal): Promise<void> {
    if (this.detaching) return this.letGo(signal);
    const ctx = this.ctx;
    const labelSelector = namespaceSelector(this.namespace);
    const { made, options } = ctx;
    // A kind the caller may not list is skipped only when this driver made none of it (MadeKinds).
    const listAll = async (): Promise<{ jobs: string[]; pods: V1Pod[]; claims: string[] }> => {
      const [jobs, pods, claims] = await Promise.all([
        made.listForClose('jobs', async () => (await ctx.call('list jobs', () => ctx.batch.listNamespacedJob({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
        made.listForClose('pods', async () => (await ctx.call('list pods', () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
        made.listForClose('persistentvolumeclaims', async () => (await ctx.call('list volume claims', () => ctx.core.listNamespacedPersistentVolumeClaim({ namespace: ctx.ns, labelSelector }), signal)).items, options.logger),
      ]);
      const names = (items: Array<{ metadata?: { name?: string } }>): string[] => items.map((item) => item.metadata?.name).filter((n): n is string => n !== undefined);
      return { jobs: names(jobs), pods, claims: names(claims) };
    };
    try {
      await deletePullSecrets(ctx, labelSelector, signal);
      for (;;) {
        const left = await listAll();
        if (left.jobs.length + left.pods.length + left.claims.length === 0) break;
        await Promise.all(left.jobs.map((name) => deleteJob(ctx, name, signal).catch(retryUnlessForbidden)));
        await Promise.all(left.pods.map((pod) => reapPod(ctx, pod, signal).catch(retryUnlessForbidden)));
        await Promise.all(left.claims.map((name) => deleteClaim(ctx, name, signal).catch(retryUnlessForbidden)));
        // A timer that keeps the process alive: a caller awaiting close (the CLI's cleanup) may have nothing else running.
        await delay(250, signal, { keepAlive: true });
      }
      // Last: a close that failed midway leaves the namespace named by the process's Lease, for a later close or reaper.
      await this.owner.leave(signal);
    } finally {
      await ctx.watcher.stop();
      // Last: the watch and every read of this driver are over.
      this.releaseConnections();
    }
  }
}

/**
 * A deletion of `close` that failed is tried again on its next round (the object is listed
 * again), unless the caller may not delete it: no round would, so the close fails at once,
 * naming what it could not remove.
 */
function retryUnlessForbidden(error: unknown): void {
  if (error instanceof EngineError && error.statusCode === 403) throw error;
}

/** One pod of `close`: deleted gracefully once; force-deleted when lost with its node (see `removePod`). */
async function reapPod(ctx: K8sContext, pod: V1Pod, signal?: AbortSignal): Promise<void> {
  const name = pod.metadata?.name as string;
  if (isLost(pod, lostRule(ctx))) return deletePod(ctx, name, signal, { force: true });
  if (pod.metadata?.deletionTimestamp === undefined || pod.metadata.deletionTimestamp === null) return deletePod(ctx, name, signal);
}

