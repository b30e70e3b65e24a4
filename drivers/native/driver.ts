import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { delay, raceAbort } from '../../src/abort.js';
import { ContainerNotFoundError } from '../../src/errors.js';
import { DriverLifecycle } from '../../src/kit/lifecycle.js';
import { assertServicesSupported } from '../../src/services.js';
import { assertServiceCommands, startServices, stopServices } from './services.js';
import { assertTerminalSupported } from '../../src/terminal.js';
import { validateSizeBytes } from '../../src/kit/volumes.js';
import type { Container, CreateVolumeOptions, Driver, DriverCapabilities, OperationOptions, SandboxTask, Task, Volume, VolumeRef } from '../../src/types.js';
import { validateSandboxTask, validateTask, validateTaskId, validateVolumeName } from '../../src/validate.js';
import { NativeContainer, type ContainerContext } from './container.js';
import { removeTree } from './filesystem.js';
import { liveProcess, liveProcessesUnder } from './live.js';
import type { ResolvedNativeOptions } from './options.js';
import { canSwitchUser } from './owner.js';
import { findNamespaceOwners, touchOwnerRecord, writeOwnerRecord } from './owner-record.js';
import { orphanNamespaces, reapInBackground, renewEvery, type ReapOrphansOptions } from '../../src/kit/owner.js';
import { groupsWorkingUnder, stopGroup } from './process.js';
import { namespaceLayout, readRecord, taskDir, type NamespaceLayout } from './record.js';
import { startSandbox, type NativeSandbox } from './sandbox.js';
import { startTask, type StartContext } from './start.js';
import { terminalTools } from './terminal.js';
import { copyToVolume, packVolume } from './volume-copy.js';
import { ensureVolume, volumeDir } from './volumes.js';

/** Removals under way, by directory, shared by every instance so two cleanups of one task are one. */
const removals = new Map<string, Promise<void>>();

/** Runs tasks as host processes; see `docs/drivers/native.md`. */
export class NativeDriver implements Driver {
  readonly name = 'native';
  readonly namespace: string;
  readonly capabilities: DriverCapabilities;
  private readonly layout: NamespaceLayout;
  private readonly sandboxes = new Set<NativeSandbox>();
  private readonly life: DriverLifecycle;
  private readonly containerContext: ContainerContext;
  private readonly ownerRenewal: { stop(): Promise<void> } | undefined;

  constructor(private readonly options: ResolvedNativeOptions) {
    this.namespace = options.namespace;
    this.layout = namespaceLayout(options.root, options.namespace);
    this.capabilities = Object.freeze({
      copyToVolume: true,
      copyFromVolume: true,
      readFilesFromVolume: true,
      startSandbox: true,
      tty: terminalTools() !== undefined,
      services: true,
      enforces: Object.freeze({ user: canSwitchUser(), privileged: false, cpuShares: false, memoryBytes: false, image: false }),
    });
    this.life = new DriverLifecycle({ driver: this.name, namespace: this.namespace, closeTimeoutMs: options.closeTimeoutMs, logger: options.logger, reap: (signal) => this.reap(signal) });
    this.containerContext = {
      life: this.life,
      removeTask: (dir, signal) => raceAbort(this.removeTask(dir), signal),
      stopServices: (dir) => stopServices(dir, options.stopGraceMs),
      reattachPollMs: options.reattachPollMs,
    };
    if (options.ownerRecord) {
      try {
        const record = writeOwnerRecord(this.layout.dir, options.ownerLeaseSeconds);
        this.ownerRenewal = renewEvery(options.ownerLeaseSeconds, () => touchOwnerRecord(record));
      } catch (error) {
        // A root the driver cannot write fails the first task with its own error; no record is no reaping.
        options.logger?.warn({ err: error, namespace: this.namespace }, 'drivetrain could not write its owner record');
      }
    }
    if (options.reapOrphans) void reapInBackground(`native:${options.root}`, (signal) => this.reapOrphans({ signal }), options.logger);
  }

  /**
   * Reaps the namespaces under the driver's root whose every owner record is gone (the owning
   * process dead on this host, or its heartbeat older than its lease), never this driver's own;
   * with `unowned`, also those with no owner record. Resolves with the namespaces reaped.
   */
  async reapOrphans(options: ReapOrphansOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    const orphans = orphanNamespaces(await findNamespaceOwners(this.options.root), Date.now(), { ...options, except: this.namespace });
    const reaped: string[] = [];
    for (const namespace of orphans) {
      options.signal?.throwIfAborted();
      // Read again just before: an owner that came back meanwhile keeps its namespace.
      const again = (await findNamespaceOwners(this.options.root)).filter((entry) => entry.namespace === namespace);
      if (orphanNamespaces(again, Date.now(), options).length === 0) continue;
      await new NativeDriver({ ...this.options, namespace, ownerRecord: false, reapOrphans: false }).close({ signal: options.signal });
      reaped.push(namespace);
    }
    return reaped;
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<Container> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    const resolved = validateTask(task);
    assertTerminalSupported(this.name, this.capabilities, resolved);
    assertServicesSupported(this.name, this.capabilities, resolved);
    assertServiceCommands(resolved.services);
    const dir = taskDir(this.layout.tasks, resolved.id);
    return this.life.start({ taskId: resolved.id, role: 'task', image: resolved.image }, options.signal, async (scope) => {
      await mkdir(this.layout.tasks, { recursive: true });
      if (!(await startTask(dir, resolved, this.startContext(), scope.signal))) scope.adopted();
      return new NativeContainer(resolved.id, dir, this.containerContext);
    });
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<Container> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    validateTaskId(id, 'id');
    const dir = taskDir(this.layout.tasks, id);
    const record = await readRecord(dir);
    if (record === undefined || record.id !== id || removals.has(dir)) throw new ContainerNotFoundError(id, { namespace: this.namespace });
    return new NativeContainer(id, dir, this.containerContext);
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    validateVolumeName(name, 'name');
    return ensureVolume(this.layout.volumes, name, validateSizeBytes(options.sizeBytes));
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    await copyToVolume(this.layout.volumes, volume, tar, options.signal);
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    return packVolume(this.layout.volumes, this.namespace, volume, undefined, options.signal);
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    return packVolume(this.layout.volumes, this.namespace, volume, paths, options.signal);
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<NativeSandbox> {
    options.signal?.throwIfAborted();
    this.life.assertOpen();
    const resolved = validateSandboxTask(task);
    assertServicesSupported(this.name, this.capabilities, resolved);
    assertServiceCommands(resolved.services);
    return this.life.start({ taskId: resolved.id, role: 'sandbox', image: resolved.image }, options.signal, async (scope) => {
      const sandbox = await startSandbox(resolved, {
        dir: taskDir(this.layout.sandboxes, resolved.id),
        volumeDir: (name) => volumeDir(this.layout.volumes, name),
        options: this.options,
        life: this.life,
        scope,
        startServices: (dir, signal) => startServices(dir, resolved.id, resolved.services, this.startContext(), (serviceDir, service, inner) => startTask(serviceDir, service, this.startContext(), inner), signal),
        remove: async (started, sandboxDir) => {
          this.sandboxes.delete(started);
          await Promise.allSettled(groupsWorkingUnder(sandboxDir).map((group) => stopGroup(group, undefined, this.options.stopGraceMs)));
          await removeTree(sandboxDir);
        },
      });
      this.sandboxes.add(sandbox);
      return sandbox;
    });
  }

  /** Stops every process of the namespace (any instance's) and removes its directory: see `DriverLifecycle` for the bound. */
  close(options: OperationOptions = {}): Promise<void> {
    return this.life.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stops every process of the namespace (of any instance), then removes the namespace's directory. */
  private async reap(signal: AbortSignal): Promise<void> {
    await this.ownerRenewal?.stop();
    await Promise.allSettled([...this.sandboxes].map((sandbox) => sandbox.cleanup()));
    const dirs = new Set(liveProcessesUnder(this.layout.tasks).map((p) => p.dir));
    for (const entry of await readdir(this.layout.tasks).catch(() => [])) dirs.add(join(this.layout.tasks, entry));
    await Promise.allSettled([...dirs].map((dir) => this.stopTask(dir)));
    signal.throwIfAborted();
    // What no record names (execs of sandboxes of other instances, strays) is found by its working directory.
    await Promise.allSettled(groupsWorkingUnder(this.layout.dir).map((group) => stopGroup(group, undefined, this.options.stopGraceMs)));
    await removeTree(this.layout.dir);
  }

  private removeTask(dir: string): Promise<void> {
    let removal = removals.get(dir);
    if (removal === undefined) {
      removal = (async () => {
        await this.stopTask(dir);
        await removeTree(dir);
      })().finally(() => removals.delete(dir));
      removals.set(dir, removal);
    }
    return removal;
  }

  private async stopTask(dir: string): Promise<void> {
    const own = liveProcess(dir);
    if (own !== undefined) {
      await stopGroup(own.pid, undefined, this.options.stopGraceMs, own.exited);
      await Promise.race([own.exited, delay(this.options.stopGraceMs)]);
    } else {
      const record = await readRecord(dir).catch(() => undefined);
      if (record?.pid !== undefined && !record.status.done) await stopGroup(record.pid, record.pidStartTicks, this.options.stopGraceMs);
    }
    // The output relays work in the task's directory; one still running (a process that left the
    // task's group holds its pipe) goes with the task.
    await Promise.allSettled(groupsWorkingUnder(dir).map((group) => stopGroup(group, undefined, this.options.stopGraceMs)));
  }

  private startContext(): StartContext {
    return {
      namespace: this.namespace,
      defaultPath: this.options.defaultPath,
      startTimeoutMs: this.options.startTimeoutMs,
      readOnlyMounts: this.options.readOnlyMounts,
      volumeDir: (name: string) => volumeDir(this.layout.volumes, name),
    };
  }
}
