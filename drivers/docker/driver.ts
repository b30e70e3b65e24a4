import type Dockerode from 'dockerode';
import { dockerodeClass } from './sdk.js';
import type { Readable } from 'node:stream';
import { DriverLifecycle } from '../../src/kit/lifecycle.js';
import { validateSizeBytes, volumeNameOf } from '../../src/kit/volumes.js';
import type { Container, CreateVolumeOptions, Driver, DriverCapabilities, OperationOptions, Sandbox, SandboxTask, Task, VolumeRef } from '../../src/types.js';
import { validateSandboxTask, validateTask, validateTaskId, validateVolumeName } from '../../src/validate.js';
import { ConflictError, ContainerNotFoundError } from '../../src/errors.js';
import { instrumentedClient } from './client.js';
import { engineCall, type DockerContext } from './context.js';
import { Deadlines } from './deadlines.js';
import { ImageResolver } from './images.js';
import { taskContainerName, namespaceFilter } from './naming.js';
import type { ResolvedDockerOptions } from './options.js';
import { removeContainer, removeVolume } from './removal.js';
import { startSandbox } from './sandbox.js';
import { containerFromInspect, inspectTaskContainer, runTask } from './start.js';
import { ensureVolume } from './volumes.js';
import { findNamespaceOwners, staleHeartbeats } from './owner-record.js';
import { DockerOwnerRecord, engineKey } from './process-owner.js';
import { orphanNamespaces, reapInBackground, type ReapOrphansOptions } from '../../src/kit/owner.js';
import { FULL_CAPABILITIES } from '../../src/capabilities.js';
import { assertServicesSupported } from '../../src/services.js';
import { assertTerminalSupported } from '../../src/terminal.js';

/** The Docker driver: tasks are containers named `dt-<namespace>--<task>`, labelled with the namespace. */
export class DockerDriver implements Driver {
  readonly name = 'docker';
  readonly capabilities: DriverCapabilities = FULL_CAPABILITIES;
  private client: Dockerode | undefined;
  private readonly life: DriverLifecycle;
  private readonly ctx: DockerContext;
  private readonly owner: DockerOwnerRecord;

  constructor(private readonly options: ResolvedDockerOptions, private readonly injected: Dockerode | undefined) {
    this.life = new DriverLifecycle({ driver: this.name, namespace: options.namespace, closeTimeoutMs: options.closeTimeoutMs, logger: options.logger, reap: (signal) => this.reap(signal) });
    const life = this.life;
    const docker = (): Dockerode => (this.client ??= instrumentedClient(injected ?? new (dockerodeClass())(), life.events));
    const ctx: DockerContext = {
      options,
      namespace: options.namespace,
      docker,
      images: new ImageResolver(docker, options.pullPolicy, options.startTimeoutMs, life.events, options.pullCredentials),
      life,
      lifetime: life.lifetime,
      assertOpen: () => life.assertOpen(),
      deadlines: new Deadlines((engineId) => killForDeadline(ctx, engineId)),
    };
    this.ctx = ctx;
    this.owner = new DockerOwnerRecord(ctx);
    // Started once the creation returned: creating a driver loads no SDK and makes no call itself.
    if (options.reapOrphans) setImmediate(() => this.reapOrphansInBackground());
    // A closed driver kills no task for its deadline any more: close removes them anyway.
    life.lifetime.addEventListener('abort', () => ctx.deadlines.clear(), { once: true });
  }

  get namespace(): string {
    return this.options.namespace;
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<Container> {
    this.life.assertOpen();
    const resolved = validateTask(task);
    assertTerminalSupported(this.name, this.capabilities, resolved);
    assertServicesSupported(this.name, this.capabilities, resolved);
    return this.life.start({ taskId: resolved.id, role: 'task', image: resolved.image }, options.signal, async (scope) => {
      await this.open();
      return runTask(this.ctx, resolved, scope);
    });
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<Container> {
    this.life.assertOpen();
    validateTaskId(id, 'id');
    const info = await inspectTaskContainer(this.ctx, id, taskContainerName(this.namespace, id), options.signal).catch((error: unknown) => {
      // A name taken by something else means this namespace has no container for the ID.
      if (error instanceof ConflictError) return undefined;
      throw error;
    });
    if (info === undefined) throw new ContainerNotFoundError(id, { namespace: this.namespace });
    // A fresh process that reattaches owns the namespace from now on.
    await this.open();
    return containerFromInspect(this.ctx, id, info);
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<DockerVolumeHandle> {
    this.life.assertOpen();
    validateVolumeName(name, 'name');
    await this.open();
    return ensureVolume(this.ctx, name, validateSizeBytes(options.sizeBytes), this.life.scope(options.signal));
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    this.life.assertOpen();
    await this.open();
    await (await volumeCopy()).copyToVolume(this.ctx, volumeNameOf(volume), tar, this.life.scope(options.signal));
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    this.life.assertOpen();
    return (await volumeCopy()).copyFromVolume(this.ctx, volumeNameOf(volume), this.life.scope(options.signal));
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    this.life.assertOpen();
    return (await volumeCopy()).readFilesFromVolume(this.ctx, volumeNameOf(volume), paths, this.life.scope(options.signal));
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<Sandbox> {
    this.life.assertOpen();
    const resolved = validateSandboxTask(task);
    assertServicesSupported(this.name, this.capabilities, resolved);
    return this.life.start({ taskId: resolved.id, role: 'sandbox', image: resolved.image }, options.signal, async (scope) => {
      await this.open();
      return startSandbox(this.ctx, resolved, scope);
    });
  }

  /**
   * Reaps the namespaces on the engine whose every owner record is gone (the owning process
   * dead on this host, or its last heartbeat older than its lease by the engine's clock), never
   * this driver's own; with `unowned`, also those with no owner record. Resolves with the
   * namespaces reaped.
   */
  async reapOrphans(options: ReapOrphansOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    const orphans = async (only?: string): Promise<string[]> => {
      const { nowMs, found } = await findNamespaceOwners(this.ctx, options.signal);
      return orphanNamespaces(only === undefined ? found : found.filter((entry) => entry.namespace === only), nowMs, { ...options, except: this.namespace });
    };
    const first = await findNamespaceOwners(this.ctx, options.signal);
    const reaped: string[] = [];
    for (const namespace of orphanNamespaces(first.found, first.nowMs, { ...options, except: this.namespace })) {
      // Read again just before: an owner that came back meanwhile keeps its namespace.
      if ((await orphans(namespace)).length === 0) continue;
      await new DockerDriver({ ...this.options, namespace, ownerRecord: false, reapOrphans: false }, this.injected).close({ signal: options.signal });
      reaped.push(namespace);
    }
    // The heartbeats of gone processes whose every marked namespace is reaped now (or that mark
    // none). A removal that fails is left for the next reap.
    for (const name of staleHeartbeats(first.heartbeats, new Set(reaped), first.nowMs, options.leaseOnly !== true)) await removeVolume(this.ctx, name, options.signal).catch(() => {});
    return reaped;
  }

  /**
   * Removes every container (tasks, sandboxes, helpers) and volume labelled with this
   * namespace, by label, including ones other instances made; bounded by `closeTimeoutMs`
   * (see `DriverLifecycle` for how calls share a sweep and what a failed one leaves).
   */
  close(options: OperationOptions = {}): Promise<void> {
    return this.life.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private reapOrphansInBackground(): void {
    if (this.life.closed) return;
    void reapInBackground(`docker:${engineKey(this.ctx.docker())}`, (signal) => this.reapOrphans({ signal }), this.options.logger);
  }

  /** The first call that makes something writes the owner record (a driver that makes nothing leaves nothing to own). */
  private async open(): Promise<void> {
    await this.owner.ensure();
  }

  private async reap(signal: AbortSignal): Promise<void> {
    await this.owner.suspend();
    const filters = namespaceFilter(this.namespace);
    // Both lists at once (one round trip, not two): a closing driver makes no new volume.
    // The volumes are removed after the containers that may still mount them.
    const [containers, volumes] = await Promise.all([
      engineCall(this.ctx, { kind: 'other', what: 'container list' }, (): Promise<Dockerode.ContainerInfo[]> => this.ctx.docker().listContainers({ all: true, filters, abortSignal: signal } as never) as never, { signal, idempotent: true }),
      engineCall(this.ctx, { kind: 'other', what: 'volume list' }, (): Promise<{ Volumes?: Array<{ Name: string }> | null }> => this.ctx.docker().listVolumes({ filters, abortSignal: signal } as never) as never, { signal, idempotent: true }),
    ]);
    await Promise.all(containers.map((c) => removeContainer(this.ctx, c.Id, signal)));
    await Promise.all((volumes.Volumes ?? []).map((v) => removeVolume(this.ctx, v.Name, signal)));
    // Everything of the namespace is gone, its mark included: the process's record holds it no more.
    await this.owner.leave(signal);
  }
}

/**
 * The volume copies, loaded on first use: they and their tar reader and writer are about a
 * dozen modules a process that only runs tasks does not load (docs/performance.md, Imports).
 */
function volumeCopy(): Promise<typeof import('./volume-copy.js')> {
  return import('./volume-copy.js');
}

type DockerVolumeHandle = Awaited<ReturnType<typeof ensureVolume>>;

/** A deadline kill: SIGKILL, the container is kept so its status and logs stay readable. */
async function killForDeadline(ctx: DockerContext, engineId: string): Promise<void> {
  await engineCall(ctx, { kind: 'other', what: 'kill' }, () => ctx.docker().getContainer(engineId).kill({ signal: 'SIGKILL' }), { idempotent: true });
}
