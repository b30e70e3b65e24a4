import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { anySignal, delay } from '../../src/abort.js';
import { ContainerNotFoundError, DriverClosedError, InvalidInputError } from '../../src/errors.js';
import { LABELS, TASK_ID_ANNOTATION } from '../../src/labels.js';
import type { Container, CreateVolumeOptions, Driver, OperationOptions, Sandbox, SandboxTask, Task, Volume, VolumeRef } from '../../src/types.js';
import { validateSandboxTask, validateTask, validateTaskId } from '../../src/validate.js';
import { createContext, type K8sContext } from './context.js';
import { deleteJob, findJobPod, readJob } from './jobs.js';
import { namespaceSelector, taskObjectName } from './naming.js';
import type { ResolvedK8sOptions } from './options.js';
import { buildPod, IDLE_COMMAND } from './pod-spec.js';
import { deletePod, getPod, lostRule } from './pods.js';
import { isLost } from './pod-status.js';
import { K8sSandbox } from './sandbox.js';
import { feedStdin, startTask } from './task-start.js';
import { TaskContainer } from './task-container.js';
import { LogStreamSupport } from './log-streams.js';
import { copyToVolume, deleteClaim, ensureVolume, readFromVolume } from './volumes.js';
import { execInWorkload, type WorkloadExecOptions } from './workload.js';
import { deletePullSecrets, ensurePullSecret } from './pull-secrets.js';
import type { RegistryCredentials } from '../../src/credentials.js';
import type { ContainerStatus } from '../../src/types.js';
import { FULL_CAPABILITIES } from '../../src/capabilities.js';


/** Longest wait of `close` for deleted objects to disappear, in ms. */
const CLOSE_WAIT_MS = 60_000;

/** The Kubernetes driver: tasks as Pods (or Jobs), volumes as PersistentVolumeClaims. */
export class K8sDriver implements Driver {
  readonly name = 'k8s';
  readonly capabilities = FULL_CAPABILITIES;
  private readonly ctx: K8sContext;
  private readonly logSupport: LogStreamSupport;
  /** Aborts everything in flight when the driver closes. */
  private readonly lifetime = new AbortController();
  private readonly starting = new Map<string, Promise<Container>>();
  private closing: Promise<void> | undefined;
  /** Set by the first `close`: no new work is accepted after it, even if that close failed. */
  private closed = false;

  constructor(kc: KubeConfig, private readonly options: ResolvedK8sOptions) {
    this.ctx = createContext(kc, options);
    this.logSupport = new LogStreamSupport(options.splitLogStreams);
    // Every attached stdin and start listens to this one signal: many listeners are expected.
    setMaxListeners(Number.POSITIVE_INFINITY, this.lifetime.signal);
  }

  get namespace(): string {
    return this.options.namespace;
  }

  /** The Kubernetes namespace objects are made in. */
  get kubernetesNamespace(): string {
    return this.ctx.ns;
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<Container> {
    this.assertOpen();
    const resolved = validateTask(task);
    const pod = buildPod(resolved, { role: 'task', command: resolved.command, stdin: resolved.stdin !== undefined, timeoutMs: resolved.timeoutMs }, this.options);
    // Concurrent calls with one ID in this process share one start (and one stdin attach).
    const inFlight = this.starting.get(resolved.id);
    if (inFlight !== undefined) return inFlight;
    const signal = anySignal([options.signal, this.lifetime.signal]);
    const start = (async (): Promise<Container> => {
      for (const mount of resolved.mounts) await ensureVolume(this.ctx, mount.volume, undefined, signal);
      const started = await startTask(this.ctx, pod, resolved.id, 'task', resolved.image, signal);
      if (started.created && resolved.stdin !== undefined) {
        // Streamed in the background: the process reads it as it goes.
        feedStdin(this.ctx, started.podName, resolved.stdin, this.lifetime.signal).catch(() => {});
      }
      return new TaskContainer(this.ctx, resolved.id, started.podName, this.logSupport, started.jobName);
    })();
    this.starting.set(resolved.id, start);
    try {
      return await start;
    } finally {
      this.starting.delete(resolved.id);
    }
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<Container> {
    this.assertOpen();
    validateTaskId(id, 'id');
    const name = taskObjectName(this.namespace, id);
    if (this.options.mode === 'job') {
      const job = await readJob(this.ctx, name, options.signal);
      if (job === undefined || job.metadata?.annotations?.[TASK_ID_ANNOTATION] !== id) throw new ContainerNotFoundError(id, { namespace: this.namespace });
      const podName = await findJobPod(this.ctx, id, 10_000, options.signal);
      if (podName === undefined) throw new ContainerNotFoundError(id, { namespace: this.namespace });
      return new TaskContainer(this.ctx, id, podName, this.logSupport, name);
    }
    const pod = await getPod(this.ctx, name, options.signal);
    if (pod === undefined || pod.metadata?.annotations?.[TASK_ID_ANNOTATION] !== id || pod.metadata.labels?.[LABELS.role] !== 'task') {
      throw new ContainerNotFoundError(id, { namespace: this.namespace });
    }
    return new TaskContainer(this.ctx, id, name, this.logSupport);
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    this.assertOpen();
    return ensureVolume(this.ctx, name, options.sizeBytes, options.signal);
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    this.assertOpen();
    if (tar === null || typeof tar !== 'object' || typeof (tar as Readable).pipe !== 'function') throw new InvalidInputError('tar', 'a Readable tar stream', tar);
    await copyToVolume(this.ctx, volume, tar, anySignal([options.signal, this.lifetime.signal]));
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    this.assertOpen();
    return readFromVolume(this.ctx, volume, undefined, anySignal([options.signal, this.lifetime.signal]));
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    this.assertOpen();
    if (!Array.isArray(paths)) throw new InvalidInputError('paths', 'an array of paths relative to the volume root', paths);
    return readFromVolume(this.ctx, volume, paths, anySignal([options.signal, this.lifetime.signal]));
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<Sandbox> {
    this.assertOpen();
    const resolved = validateSandboxTask(task);
    const pod = buildPod(resolved, { role: 'sandbox', command: IDLE_COMMAND, stdin: false }, this.options);
    const signal = anySignal([options.signal, this.lifetime.signal]);
    for (const mount of resolved.mounts) await ensureVolume(this.ctx, mount.volume, undefined, signal);
    const started = await startTask(this.ctx, pod, resolved.id, 'sandbox', resolved.image, signal);
    return new K8sSandbox(this.ctx, resolved.id, started.podName, resolved.workDir);
  }

  /**
   * Runs a command in a pod of an existing workload (not made by drivetrain): the first
   * ready pod of `deployment` or `labelSelector`. See {@link WorkloadExecOptions}.
   */
  async execInWorkload(options: WorkloadExecOptions): Promise<ContainerStatus> {
    this.assertOpen();
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
    this.assertOpen();
    await ensurePullSecret(this.ctx, name, credentials, anySignal([options.signal, this.lifetime.signal]));
  }

  /**
   * Aborts everything in flight and reaps the namespace. Concurrent calls share one run; a
   * run that failed (e.g. its signal aborted) is forgotten, so a later call reaps again.
   */
  close(options: OperationOptions = {}): Promise<void> {
    this.closed = true;
    if (this.closing !== undefined) return this.closing;
    const run = this.reapAll(options.signal);
    this.closing = run;
    run.catch(() => {
      if (this.closing === run) this.closing = undefined;
    });
    return run;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Deletes everything labelled with this drivetrain namespace (any instance's), then waits, bounded, until it is gone. */
  private async reapAll(signal?: AbortSignal): Promise<void> {
    this.lifetime.abort(new DriverClosedError(this.name));
    const ctx = this.ctx;
    const labelSelector = namespaceSelector(this.namespace);
    const listAll = async (): Promise<{ jobs: string[]; pods: V1Pod[]; claims: string[] }> => {
      const [jobs, pods, claims] = await Promise.all([
        ctx.call('list jobs', () => ctx.batch.listNamespacedJob({ namespace: ctx.ns, labelSelector }), signal).then((l) => l.items, () => []),
        ctx.call('list pods', () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector }), signal).then((l) => l.items),
        ctx.call('list volume claims', () => ctx.core.listNamespacedPersistentVolumeClaim({ namespace: ctx.ns, labelSelector }), signal).then((l) => l.items),
      ]);
      const names = (items: Array<{ metadata?: { name?: string } }>): string[] => items.map((item) => item.metadata?.name).filter((n): n is string => n !== undefined);
      return { jobs: names(jobs), pods, claims: names(claims) };
    };
    try {
      await deletePullSecrets(ctx, labelSelector, signal);
      const deadline = Date.now() + CLOSE_WAIT_MS;
      for (;;) {
        const left = await listAll();
        if (left.jobs.length + left.pods.length + left.claims.length === 0 || Date.now() > deadline) break;
        await Promise.all(left.jobs.map((name) => deleteJob(ctx, name, signal).catch(() => {})));
        await Promise.all(left.pods.map((pod) => reapPod(ctx, pod, signal).catch(() => {})));
        await Promise.all(left.claims.map((name) => deleteClaim(ctx, name, signal).catch(() => {})));
        // A timer that keeps the process alive: a caller awaiting close (the CLI's cleanup) may have nothing else running.
        await delay(250, signal, { keepAlive: true });
      }
    } finally {
      await ctx.watcher.stop();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new DriverClosedError(this.name);
  }
}

/** One pod of `close`: deleted gracefully once; force-deleted when lost with its node (see `removePod`). */
async function reapPod(ctx: K8sContext, pod: V1Pod, signal?: AbortSignal): Promise<void> {
  const name = pod.metadata?.name as string;
  if (isLost(pod, lostRule(ctx))) return deletePod(ctx, name, signal, { force: true });
  if (pod.metadata?.deletionTimestamp === undefined || pod.metadata.deletionTimestamp === null) return deletePod(ctx, name, signal);
}

