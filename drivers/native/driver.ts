import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { abortReason, delay, raceAbort } from '../../src/abort.js';
import { ContainerNotFoundError, DriverClosedError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import type {
  Container,
  CreateVolumeOptions,
  Driver,
  DriverCapabilities,
  OperationOptions,
  SandboxTask,
  Task,
  Volume,
  VolumeRef,
} from '../../src/types.js';
import { validateSandboxTask, validateTask, validateTaskId, validateVolumeName } from '../../src/validate.js';
import { NativeContainer, type ContainerContext } from './container.js';
import { buildTaskTree, removeTree } from './filesystem.js';
import { liveProcess, liveProcessesUnder } from './live.js';
import type { ResolvedNativeOptions } from './options.js';
import { canSwitchUser, resolveOwner } from './owner.js';
import { groupsWorkingUnder, stopGroup } from './process.js';
import { isCode, namespaceLayout, readRecord, taskDir, type NamespaceLayout } from './record.js';
import { NativeSandbox } from './sandbox.js';
import { startTask, type StartContext } from './start.js';
import { packFrom } from './tar-out.js';
import { extractInto } from './tar-in.js';

/** Removals under way, by directory, shared by every instance so two cleanups of one task are one. */
const removals = new Map<string, Promise<void>>();

/** Runs tasks as host processes; see `docs/drivers/native.md`. */
export class NativeDriver implements Driver {
  readonly name = 'native';
  readonly namespace: string;
  readonly capabilities: DriverCapabilities;
  private readonly layout: NamespaceLayout;
  private readonly sandboxes = new Set<NativeSandbox>();
  private closing: Promise<void> | undefined;
  private readonly containerContext: ContainerContext;

  constructor(private readonly options: ResolvedNativeOptions) {
    this.namespace = options.namespace;
    this.layout = namespaceLayout(options.root, options.namespace);
    this.capabilities = Object.freeze({
      copyToVolume: true,
      copyFromVolume: true,
      readFilesFromVolume: true,
      startSandbox: true,
      enforces: Object.freeze({ user: canSwitchUser(), privileged: false, cpuShares: false, memoryBytes: false, image: false }),
    });
    this.containerContext = {
      assertOpen: () => this.assertOpen(),
      removeTask: (dir, signal) => raceAbort(this.removeTask(dir), signal),
      reattachPollMs: options.reattachPollMs,
    };
  }

  async runContainer(task: Task, options: OperationOptions = {}): Promise<Container> {
    const { signal } = options;
    signal?.throwIfAborted();
    this.assertOpen();
    const resolved = validateTask(task);
    await mkdir(this.layout.tasks, { recursive: true });
    const dir = taskDir(this.layout.tasks, resolved.id);
    await startTask(dir, resolved, this.startContext(), signal);
    if (this.closing !== undefined) {
      // close() ran meanwhile: what this call started must not outlive it.
      await this.removeTask(dir);
      throw new DriverClosedError(this.name);
    }
    return new NativeContainer(resolved.id, dir, this.containerContext);
  }

  async getContainer(id: string, options: OperationOptions = {}): Promise<Container> {
    options.signal?.throwIfAborted();
    this.assertOpen();
    validateTaskId(id, 'id');
    const dir = taskDir(this.layout.tasks, id);
    const record = await readRecord(dir);
    if (record === undefined || record.id !== id || removals.has(dir)) throw new ContainerNotFoundError(id, { namespace: this.namespace });
    return new NativeContainer(id, dir, this.containerContext);
  }

  async createVolume(name: string, options: CreateVolumeOptions = {}): Promise<Volume> {
    options.signal?.throwIfAborted();
    this.assertOpen();
    validateVolumeName(name, 'name');
    const sizeBytes = options.sizeBytes;
    if (sizeBytes !== undefined && !(Number.isSafeInteger(sizeBytes) && sizeBytes > 0)) {
      throw new InvalidInputError('options.sizeBytes', 'a positive integer number of bytes', sizeBytes);
    }
    const dir = this.volumeDir(name);
    await mkdir(dir, { recursive: true });
    return {
      name,
      ...(sizeBytes === undefined ? {} : { sizeBytes }),
      cleanup: async (cleanupOptions: OperationOptions = {}) => {
        cleanupOptions.signal?.throwIfAborted();
        await removeTree(dir);
      },
    };
  }

  async copyToVolume(volume: VolumeRef, tar: Readable, options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.assertOpen();
    const dir = this.volumeDir(volumeName(volume));
    await mkdir(dir, { recursive: true });
    await extractInto(dir, tar, options.signal);
  }

  async copyFromVolume(volume: VolumeRef, options: OperationOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    this.assertOpen();
    return packFrom(await this.existingVolume(volume), undefined, options.signal);
  }

  async readFilesFromVolume(volume: VolumeRef, paths: readonly string[], options: OperationOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    this.assertOpen();
    return packFrom(await this.existingVolume(volume), paths, options.signal);
  }

  async startSandbox(task: SandboxTask, options: OperationOptions = {}): Promise<NativeSandbox> {
    const { signal } = options;
    signal?.throwIfAborted();
    this.assertOpen();
    const resolved = validateSandboxTask(task);
    const owner = resolveOwner(resolved.user);
    const dir = taskDir(this.layout.sandboxes, resolved.id);
    const fsRoot = join(dir, 'fs');
    await mkdir(this.layout.sandboxes, { recursive: true });
    let fresh = true;
    try {
      await mkdir(dir);
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
      fresh = false; // The same ID again: the existing sandbox's tree is reused.
    }
    try {
      if (fresh) {
        const treeOptions = { ...(owner === undefined ? {} : { owner }), readOnly: this.options.readOnlyMounts };
        await buildTaskTree(fsRoot, resolved.workDir, resolved.mounts, (name) => this.volumeDir(name), treeOptions);
      }
      if (signal?.aborted) throw abortReason(signal);
    } catch (error) {
      await removeTree(dir).catch(() => {});
      throw error;
    }
    const sandbox = new NativeSandbox(
      { id: resolved.id, dir, fsRoot, workDir: resolved.workDir, env: resolved.env, ...(owner === undefined ? {} : { owner }) },
      {
        assertOpen: () => this.assertOpen(),
        defaultPath: this.options.defaultPath,
        stopGraceMs: this.options.stopGraceMs,
        remove: async (sandboxDir) => {
          this.sandboxes.delete(sandbox);
          await Promise.allSettled(groupsWorkingUnder(sandboxDir).map((group) => stopGroup(group, undefined, this.options.stopGraceMs)));
          await removeTree(sandboxDir);
        },
      },
    );
    this.sandboxes.add(sandbox);
    return sandbox;
  }

  async close(options: OperationOptions = {}): Promise<void> {
    this.closing ??= this.reap();
    const bounded = Promise.race([this.closing, delay(this.options.closeTimeoutMs)]);
    await raceAbort(bounded, options.signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stops every process of the namespace (of any instance), then removes the namespace's directory. */
  private async reap(): Promise<void> {
    await Promise.allSettled([...this.sandboxes].map((sandbox) => sandbox.cleanup()));
    const dirs = new Set(liveProcessesUnder(this.layout.tasks).map((p) => p.dir));
    for (const entry of await readdir(this.layout.tasks).catch(() => [])) dirs.add(join(this.layout.tasks, entry));
    await Promise.allSettled([...dirs].map((dir) => this.stopTask(dir)));
    // What no record names (execs of sandboxes of other instances, strays) is found by its working directory.
    await Promise.allSettled(groupsWorkingUnder(this.layout.dir).map((group) => stopGroup(group, undefined, this.options.stopGraceMs)));
    await removeTree(this.layout.dir);
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new DriverClosedError(this.name);
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
      volumeDir: (name: string) => this.volumeDir(name),
    };
  }

  private volumeDir(name: string): string {
    return join(this.layout.volumes, name);
  }

  private async existingVolume(volume: VolumeRef): Promise<string> {
    const dir = this.volumeDir(volumeName(volume));
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) throw new NotFoundError(`no volume "${volumeName(volume)}" in namespace "${this.namespace}"`);
    return dir;
  }
}

function volumeName(volume: VolumeRef): string {
  const name = typeof volume === 'string' ? volume : volume?.name;
  validateVolumeName(name, 'volume');
  return name;
}
