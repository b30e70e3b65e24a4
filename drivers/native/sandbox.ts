import { assertTerminalSupported, validateTerminalOptions } from '../../src/terminal.js';
import { Socket } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Writable } from 'node:stream';
import { abortReason } from '../../src/abort.js';
import type { DriverLifecycle, StartScope } from '../../src/kit/lifecycle.js';
import type { ContainerStatus, ExecOptions, LogResult, OperationOptions, Sandbox, ServiceLogOptions } from '../../src/types.js';
import { validateAbsolutePath, validateCommand, validateEnv, type ResolvedTask } from '../../src/validate.js';
import type { ChildProcess } from 'node:child_process';
import { InvalidInputError } from '../../src/errors.js';
import { buildTaskTree, mapPath, removeTree } from './filesystem.js';
import type { Owner } from './filesystem.js';
import type { ResolvedNativeOptions } from './options.js';
import { resolveOwner } from './owner.js';
import { closePipes, plumb, type PipeEnds } from './pipes.js';
import { exitCodeOf, signalGroup, spawnProcess, stopGroup, type SpawnResult } from './process.js';
import { isCode } from './record.js';
import { taskEnv } from './start.js';
import { followResizes, requireTools, stdinFeed, terminalLaunch, terminalTools } from './terminal.js';
import { serviceLogs, stopServices } from './services.js';

/** How often a follow of a sandbox service's log checks whether the service has ended, in milliseconds. */
const SERVICE_LOG_POLL_MS = 250;

/** What a sandbox needs from its driver. */
export interface SandboxContext {
  life: DriverLifecycle;
  defaultPath: string;
  stopGraceMs: number;
  /** Removes the sandbox's directory; idempotent. */
  remove(dir: string): Promise<void>;
}

/** What starting a sandbox needs from the driver. */
export interface SandboxStart {
  /** The sandbox's directory: `<root>/<namespace>/sandboxes/<sanitised id>`. */
  dir: string;
  volumeDir(name: string): string;
  options: ResolvedNativeOptions;
  life: DriverLifecycle;
  scope: StartScope;
  /** Stops what runs in the sandbox's directory and removes it. */
  remove(sandbox: NativeSandbox, dir: string): Promise<void>;
  /** Starts the sandbox's services in its directory, each ready (see services.ts). */
  startServices(dir: string, signal: AbortSignal): Promise<void>;
}

/**
 * Makes the sandbox's directory tree, or finds the existing one of that ID (`mkdir` is the
 * lock, as for tasks): the same ID again reuses it.
 */
export async function startSandbox(task: Omit<ResolvedTask, 'command'>, start: SandboxStart): Promise<NativeSandbox> {
  const { dir, options, scope } = start;
  const owner = resolveOwner(task.user);
  const fsRoot = join(dir, 'fs');
  await mkdir(dirname(dir), { recursive: true });
  let fresh = true;
  try {
    await mkdir(dir);
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
    fresh = false;
    scope.adopted();
  }
  try {
    if (fresh) {
      const treeOptions = { ...(owner === undefined ? {} : { owner }), readOnly: options.readOnlyMounts };
      await buildTaskTree(fsRoot, task.workDir, task.mounts, start.volumeDir, treeOptions);
      if (task.services.length > 0) await start.startServices(dir, scope.signal);
    }
    if (scope.signal.aborted) throw abortReason(scope.signal);
  } catch (error) {
    await stopServices(dir, 0);
    await removeTree(dir).catch(() => {});
    throw error;
  }
  const sandbox: NativeSandbox = new NativeSandbox(
    { id: task.id, dir, fsRoot, workDir: task.workDir, env: task.env, ...(owner === undefined ? {} : { owner }) },
    { life: start.life, defaultPath: options.defaultPath, stopGraceMs: options.stopGraceMs, remove: (sandboxDir) => start.remove(sandbox, sandboxDir) },
  );
  return sandbox;
}

/** A sandbox's settings after validation. */
export interface SandboxSpec {
  id: string;
  dir: string;
  fsRoot: string;
  workDir: string;
  env: Readonly<Record<string, string>>;
  owner?: Owner;
}

/**
 * A per-task directory tree in which each `exec` is a host process of its own
 * (own process group), with the sandbox's env and workDir unless the call sets others.
 */
export class NativeSandbox implements Sandbox {
  readonly id: string;
  private readonly running = new Set<ChildProcess>();
  private removal: Promise<void> | undefined;

  constructor(
    private readonly spec: SandboxSpec,
    private readonly context: SandboxContext,
  ) {
    this.id = spec.id;
  }

  async exec(command: readonly string[], options: ExecOptions = {}): Promise<ContainerStatus> {
    this.context.life.assertOpen();
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.removal !== undefined) return { done: true, exitCode: null, reason: 'Deleted', message: 'the sandbox was cleaned up' };
    validateCommand(command, 'command');
    const terminalOptions = validateTerminalOptions(options, 'options');
    assertTerminalSupported('native', { tty: terminalTools() !== undefined }, terminalOptions);
    const env = taskEnv({ ...this.spec.env, ...validateEnv(options.env, 'options.env') }, this.context.defaultPath);
    const workDir = options.workDir === undefined ? this.spec.workDir : resolveWorkDir(this.spec.workDir, options.workDir);
    const cwd = mapPath(this.spec.fsRoot, workDir);
    await mkdir(cwd, { recursive: true });
    // Real pipes, read here: the command may reopen /dev/stdin, /dev/stdout and /dev/stderr.
    const terminal = terminalOptions.tty === undefined ? undefined : terminalLaunch(requireTools(), command, env, terminalOptions.tty, options.stdin);
    const { pipes } = await plumb(this.spec.dir, [], options.stdin === undefined && terminal === undefined ? 2 : 3, this.spec.owner);
    const [out, err, input] = pipes as [PipeEnds, PipeEnds, PipeEnds | undefined];
    const outputs = [forward(out.read, options.stdout), forward(err.read, options.stderr)];
    let started: SpawnResult;
    try {
      started = await spawnProcess({
        command: terminal?.command ?? command,
        cwd,
        env: terminal?.env ?? env,
        stdout: out.write,
        stderr: err.write,
        stdin: stdinFeed(input, terminal, options.stdin),
        owner: this.spec.owner,
      });
    } finally {
      // The child holds its own copies: the outputs end once it and what it started are gone.
      closePipes([out, err], 'write');
    }
    if (started.child === undefined) {
      await Promise.all(outputs);
      return started.status;
    }
    const { child, pid } = started;
    if (terminal !== undefined) followResizes(requireTools(), pid, terminalOptions.terminalSizes, started.exit);
    this.running.add(child);
    const onAbort = (): void => signalGroup(pid, 'SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { code, signal: killedBy } = await started.exit;
      // Like an exec in a container: what the command left in its group goes with it.
      signalGroup(pid, 'SIGKILL');
      await Promise.all(outputs);
      const exitCode = exitCodeOf(code, killedBy);
      const status: ContainerStatus =
        exitCode === null ? { done: true, exitCode: null, reason: 'Error', message: 'the process ended without an exit code' } : { done: true, exitCode };
      if (signal?.aborted) throw abortReason(signal);
      return status;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running.delete(child);
    }
  }

  async logs(options: ServiceLogOptions): Promise<LogResult> {
    this.context.life.assertOpen();
    options?.signal?.throwIfAborted();
    return serviceLogs(this.spec.dir, this.id, options ?? {}, SERVICE_LOG_POLL_MS);
  }

  async cleanup(options: OperationOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.removal ??= this.context.life.cleanup(this.id, 'sandbox', async () => {
      await Promise.all([...this.running].map((child) => (child.pid === undefined ? undefined : stopGroup(child.pid, undefined, this.context.stopGraceMs))));
      await this.context.remove(this.spec.dir);
    });
    await this.removal;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

function resolveWorkDir(base: string, workDir: string): string {
  if (typeof workDir !== 'string' || workDir.trim() === '' || workDir.split('/').includes('..')) {
    throw new InvalidInputError('options.workDir', 'an absolute path, or one relative to the sandbox workDir, without ".." segments', workDir);
  }
  return validateAbsolutePath(posix.resolve(base, workDir), 'options.workDir');
}

/**
 * Copies a pipe's output to a destination without ending it (without one, the output is
 * drained); resolves at the pipe's end, once everything was handed on.
 */
function forward(readEnd: number, destination: Writable | undefined): Promise<void> {
  const source = new Socket({ fd: readEnd, readable: true, writable: false });
  return new Promise((resolve) => {
    source.once('close', () => resolve());
    // A destination that fails stops the copy; the command's own end still decides the exec.
    source.on('error', () => source.destroy());
    if (destination === undefined) source.resume();
    else source.pipe(destination, { end: false });
  });
}
