import Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { anySignal, isAbortError, raceAbort } from '../../src/abort.js';
import type { Container, CreateVolumeOptions, Driver, OperationOptions, Sandbox, SandboxTask, Task, VolumeRef } from '../../src/types.js';
import { validateSandboxTask, validateTask, validateTaskId, validateVolumeName } from '../../src/validate.js';
import { ConflictError, ContainerNotFoundError, DriverClosedError, InvalidInputError } from '../../src/errors.js';
import { copyFromVolume, copyToVolume, readFilesFromVolume } from './archive.js';
import { engineCall, type DockerContext } from './context.js';
import { Deadlines } from './deadlines.js';
import { ImageResolver } from './images.js';
import { taskContainerName, namespaceFilter } from './naming.js';
import type { ResolvedDockerOptions } from './options.js';
import { removeContainer, removeVolume } from './removal.js';
import { containerFromInspect, inspectTaskContainer, runTask } from './run.js';
import { startSandbox } from './sandbox.js';
import { ensureVolume } from './volumes.js';
import { FULL_CAPABILITIES } from '../../src/capabilities.js';


/** The Docker driver: tasks are containers named `dt-<namespace>--<task>`, labelled with the namespace. */
export class DockerDriver implements Driver {
  readonly name = 'docker';
  readonly capabilities = FULL_CAPABILITIES;
  private client: Dockerode | undefined;
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;
  /** Runs in flight per task ID: concurrent runs of one ID in this instance share one create. */
  private readonly inFlight = new Map<string, Promise<Container>>();
  private readonly ctx: DockerContext;

  constructor(private readonly options: ResolvedDockerOptions, injected: Dockerode | undefined) {
    this.client = injected;
    const docker = (): Dockerode => (this.client ??= new Dockerode());
    const ctx: DockerContext = {
      options,
      namespace: options.namespace,
      docker,
      images: new ImageResolver(docker, options.pullPolicy, options.startTimeoutMs),
      lifetime: this.closing.signal,
      assertOpen: () => {
        if (this.closing.signal.aborted) throw new DriverClosedError(this.name);
      },
      deadlines: new Deadlines((engineId) => killForDeadline(ctx, engineId)),
    };
    this.ctx = ctx;
  }

  get namespace(): string {
    return this.options.namespace;
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<Container> {
    this.ctx.assertOpen();
    const resolved = validateTask(task);
    options.signal?.throwIfAborted();
    let pending = this.inFlight.get(resolved.id);
    if (pending === undefined) {
      pending = runTask(this.ctx, resolved, options.signal).finally(() => this.inFlight.delete(resolved.id));
      this.inFlight.set(resolved.id, pending);
      return pending;
    }
    // Another call of this instance is creating it: share its outcome. Only when that
    // call was aborted by its own caller does this one try again, under its own signal.
    return raceAbort(pending, options.signal).catch((error: unknown) => {
      if (isAbortError(error) && options.signal?.aborted !== true && !this.closing.signal.aborted) return this.runContainer(task, options);
      throw error;
    });
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<Container> {
    this.ctx.assertOpen();
    validateTaskId(id, 'id');
    const info = await inspectTaskContainer(this.ctx, id, taskContainerName(this.namespace, id), options.signal).catch((error: unknown) => {
      // A name taken by something else means this namespace has no container for the ID.
      if (error instanceof ConflictError) return undefined;
      throw error;
    });
    if (info === undefined) throw new ContainerNotFoundError(id, { namespace: this.namespace });
    return containerFromInspect(this.ctx, id, info);
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<DockerVolumeHandle> {
    this.ctx.assertOpen();
    validateVolumeName(name, 'name');
    if (options.sizeBytes !== undefined && !(Number.isInteger(options.sizeBytes) && options.sizeBytes > 0)) {
      throw new InvalidInputError('options.sizeBytes', 'a positive integer number of bytes', options.sizeBytes);
    }
    return ensureVolume(this.ctx, name, options.sizeBytes, anySignal([options.signal, this.closing.signal]));
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    this.ctx.assertOpen();
    await copyToVolume(this.ctx, volumeNameOf(volume), tar, anySignal([options.signal, this.closing.signal]));
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    this.ctx.assertOpen();
    return copyFromVolume(this.ctx, volumeNameOf(volume), anySignal([options.signal, this.closing.signal]));
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    this.ctx.assertOpen();
    return readFilesFromVolume(this.ctx, volumeNameOf(volume), paths, anySignal([options.signal, this.closing.signal]));
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<Sandbox> {
    this.ctx.assertOpen();
    const resolved = validateSandboxTask(task);
    return startSandbox(this.ctx, resolved, anySignal([options.signal, this.closing.signal]));
  }

  /**
   * Removes every container (tasks, sandboxes, helpers) and volume labelled with this
   * namespace, by label, including ones other instances made. Bounded by
   * `closeTimeoutMs`. Calls while a sweep runs share it; a sweep that failed or was
   * aborted is not remembered, so a later call sweeps again (and a caller that shared a
   * failed sweep tries once more with its own signal).
   */
  close(options: OperationOptions = {}): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.closing.abort(new DriverClosedError(this.name));
      this.ctx.deadlines.clear();
    }
    if (this.closed === undefined) return this.startSweep(options.signal);
    return this.closed.catch((error: unknown) => {
      if (options.signal?.aborted === true) throw error;
      return this.startSweep(options.signal);
    });
  }

  /** The sweep in flight (or finished successfully), else a new one under `signal`. */
  private startSweep(signal: AbortSignal | undefined): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    const sweep = this.sweep(anySignal([signal], this.options.closeTimeoutMs));
    this.closed = sweep;
    sweep.catch(() => {
      if (this.closed === sweep) this.closed = undefined;
    });
    return sweep;
  }

  private async sweep(signal: AbortSignal): Promise<void> {
    // Runs in flight see the closing signal and remove what they made; wait for them first.
    await raceAbort(Promise.allSettled([...this.inFlight.values()]), signal);
    const filters = namespaceFilter(this.namespace);
    const containers = await engineCall(this.ctx, { kind: 'other', what: 'container list' }, (): Promise<Dockerode.ContainerInfo[]> => this.ctx.docker().listContainers({ all: true, filters, abortSignal: signal } as never) as never, { signal, idempotent: true });
    await Promise.all(containers.map((c) => removeContainer(this.ctx, c.Id, signal)));
    const volumes = await engineCall(this.ctx, { kind: 'other', what: 'volume list' }, (): Promise<{ Volumes?: Array<{ Name: string }> | null }> => this.ctx.docker().listVolumes({ filters, abortSignal: signal } as never) as never, { signal, idempotent: true });
    await Promise.all((volumes.Volumes ?? []).map((v) => removeVolume(this.ctx, v.Name, signal)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

type DockerVolumeHandle = Awaited<ReturnType<typeof ensureVolume>>;

function volumeNameOf(volume: VolumeRef): string {
  const name = typeof volume === 'string' ? volume : volume?.name;
  validateVolumeName(name, 'volume');
  return name;
}

/** A deadline kill: SIGKILL, the container is kept so its status and logs stay readable. */
async function killForDeadline(ctx: DockerContext, engineId: string): Promise<void> {
  await engineCall(ctx, { kind: 'other', what: 'kill' }, () => ctx.docker().getContainer(engineId).kill({ signal: 'SIGKILL' }), { idempotent: true });
}
