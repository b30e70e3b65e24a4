import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { ConflictError, NotFoundError, StartTimeoutError } from '../../src/errors.js';
import { delay } from '../../src/abort.js';
import { LABELS } from '../../src/labels.js';
import type { ContainerStatus, ExecOptions, LogResult, OperationOptions, Sandbox, ServiceLogOptions } from '../../src/types.js';
import { validateAbsolutePath, validateCommand, validateEnv, type ResolvedTask } from '../../src/validate.js';
import { validateTerminalOptions } from '../../src/terminal.js';
import { EngineUnavailableError, InvalidInputError } from '../../src/errors.js';
import { engineCall, quickEngineCall, type DockerContext } from './context.js';
import { demuxTo } from './demux.js';
import { relayTo, writeWithBackpressure } from '../../src/kit/write.js';
import type { StartScope } from '../../src/kit/lifecycle.js';
import { sandboxContainerName } from './naming.js';
import { removeContainer, removeContainerQuietly } from './removal.js';
import { createWithImage } from './start.js';
import { needsWritableScratchDir, prepareScratchDir } from './scratch-dir.js';
import { containerSpec } from './spec.js';
import { stdinToReadable } from '../../src/stdin.js';
import { ensureVolume } from './volumes.js';
import { watchSilence } from './silence.js';
import { removeServices, serviceEngineId, sharedNetworkMode, startServices } from './services.js';
import { deliverLogs } from './logs.js';
import { waitWhileCreated } from './events.js';
import { driveTerminal } from './terminal.js';

/** What the sandbox's PID 1 runs: it idles; Docker's init (`Init: true`) makes it stop at once on removal. */
const IDLE_COMMAND = ['sleep', '2147483647'];

/** Starts a sandbox container (or returns the running one of that ID). */
export async function startSandbox(ctx: DockerContext, task: Omit<ResolvedTask, 'command'>, scope: StartScope): Promise<DockerSandbox> {
  const { signal } = scope;
  const name = sandboxContainerName(ctx.namespace, task.id);
  if (ctx.images.policy === 'Always') await ctx.images.pull(task.image, signal);
  for (const mount of task.mounts) await ensureVolume(ctx, mount.volume, undefined, signal);
  const owner = { kind: 'sandbox', taskId: task.id } as const;
  const networkMode = task.services.length > 0 ? sharedNetworkMode(ctx, owner) : ctx.options.networkMode;
  const spec = containerSpec({ ...task, command: IDLE_COMMAND, openStdin: false }, { name, namespace: ctx.namespace, role: 'sandbox', networkMode, init: true });
  const prepareWorkDir = task.defaultWorkDir && (await needsWritableScratchDir(ctx, task.image, task.user, signal));
  let engineId: string | undefined;
  // A conflicting create whose container is not visible yet is another caller's create in progress: retry shortly.
  for (let round = 0; engineId === undefined; round++) {
    if (round > 0) await delay(Math.min(10 * 2 ** round, 200), signal);
    try {
      engineId = await createWithImage(ctx, spec, task.image, signal);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      try {
        const adopted = await adoptSandbox(ctx, task, name, signal);
        scope.adopted();
        return adopted;
      } catch (adoptError) {
        if (!(adoptError instanceof NotFoundError) || round >= 8) throw adoptError;
      }
    }
  }
  try {
    if (prepareWorkDir) await prepareScratchDir(ctx, engineId, task.workDir);
    if (task.services.length > 0) await startServices(ctx, owner, task.services, signal);
    await engineCall(ctx, { kind: 'start' }, () => ctx.docker().getContainer(engineId).start());
    signal.throwIfAborted();
  } catch (error) {
    await removeContainerQuietly(ctx, engineId);
    if (task.services.length > 0) await removeServices(ctx, owner).catch(() => {});
    throw error;
  }
  return new DockerSandbox(ctx, task, engineId);
}

async function adoptSandbox(ctx: DockerContext, task: Omit<ResolvedTask, 'command'>, name: string, signal: AbortSignal): Promise<DockerSandbox> {
  const info = await engineCall(ctx, { kind: 'other', what: `sandbox ${name}` }, () => ctx.docker().getContainer(name).inspect({ abortSignal: signal }), { signal, idempotent: true });
  const labels = info.Config.Labels ?? {};
  if (labels[LABELS.namespace] !== ctx.namespace || labels[LABELS.taskId] !== task.id) {
    throw new ConflictError(`container name "${name}" is taken by something that is not sandbox "${task.id}" of namespace "${ctx.namespace}"`);
  }
  if (info.State.Status === 'created' && info.HostConfig.NetworkMode === sharedNetworkMode(ctx, { kind: 'sandbox', taskId: task.id })) {
    // Another caller is starting its services: it starts the sandbox once they are ready (or removes it).
    const outcome = await waitWhileCreated(ctx, info.Id, ctx.options.startTimeoutMs, signal);
    if (outcome === 'gone') throw new NotFoundError(`sandbox "${task.id}" was removed while being adopted`);
    if (outcome === 'timeout') throw new StartTimeoutError(`sandbox "${task.id}" was created by another caller but did not start within ${ctx.options.startTimeoutMs} ms`, ctx.options.startTimeoutMs);
  } else if (info.State.Status !== 'running') {
    await engineCall(ctx, { kind: 'start' }, () => ctx.docker().getContainer(info.Id).start());
  }
  return new DockerSandbox(ctx, task, info.Id);
}

/** A long-lived container; each `exec` is a Docker exec with its own env and working directory. */
export class DockerSandbox implements Sandbox {
  readonly id: string;

  constructor(
    private readonly ctx: DockerContext,
    private readonly task: Omit<ResolvedTask, 'command'>,
    /** The engine's container ID. */
    readonly engineId: string,
  ) {
    this.id = task.id;
  }

  /**
   * Runs `command` and resolves with its exit code, read from the engine's exec
   * inspect once the output stream ended. A non-zero code is a status, not an error.
   *
   * An exec's stream silent for `livenessIntervalMs` is checked with an inspect of the exec:
   * a running command may be quiet; an ended one whose stream is still open, or an engine
   * that does not answer, means a half-open connection. The command's output is then lost
   * (the engine keeps none of an exec's), so the status is `reason: 'StreamLost'` with
   * `exitCode: null` and a message naming the condition — never the command's exit code,
   * which would pass partial output off as a result.
   */
  async exec(command: readonly string[], options: ExecOptions = {}): Promise<ContainerStatus> {
    this.ctx.assertOpen();
    validateCommand(command, 'command');
    const terminal = validateTerminalOptions(options, 'options');
    const env = { ...this.task.env, ...validateEnv(options.env, 'options.env') };
    const workDir = options.workDir === undefined ? this.task.workDir : resolveWorkDir(this.task.workDir, options.workDir);
    const signal = options.signal;
    const subject = { kind: 'container', taskId: this.id, namespace: this.ctx.namespace } as const;
    const execSpec: Dockerode.ExecCreateOptions = {
      Cmd: [...command],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: workDir,
      AttachStdin: options.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: terminal.tty !== undefined,
    };
    // [height, width]; taken by engines from API 1.42 (Docker 23), see `driveTerminal` for older ones.
    if (terminal.tty !== undefined) execSpec.ConsoleSize = [terminal.tty.rows, terminal.tty.columns];
    if (this.task.user !== undefined) execSpec.User = this.task.user;
    // An exec instance that is never started is harmless: its creation is safe to repeat.
    const exec = await quickEngineCall(this.ctx, subject, (bounded) => this.ctx.docker().getContainer(this.engineId).exec({ ...execSpec, abortSignal: bounded }), { signal });
    const connection = await startExec(this.ctx, exec, options.stdin !== undefined, terminal.tty !== undefined, signal);
    const ended = new AbortController();
    if (terminal.tty !== undefined) void driveTerminal(this.ctx, exec, subject, terminal.tty, terminal.terminalSizes, ended.signal);
    const onAbort = (): void => {
      connection.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const silence = watchSilence(connection, this.ctx.options.livenessIntervalMs, `exec in sandbox "${this.id}"`, async (bounded) => {
      const state = await quickEngineCall(this.ctx, subject, (inner) => exec.inspect({ abortSignal: inner }), { signal: bounded });
      return state.Running ? 'quiet' : 'lost';
    });
    try {
      // On a terminal the engine sends the terminal's stream as it is: no frames, no stderr.
      const output = pipeline(connection, terminal.tty === undefined ? demuxTo(options.stdout, options.stderr) : relayTo(options.stdout));
      if (options.stdin !== undefined) void pumpStdinKeepingOutput(connection, options.stdin, terminal.tty === undefined);
      await output;
      signal?.throwIfAborted();
    } catch (error) {
      signal?.throwIfAborted();
      if (silence.tripped === undefined) throw error;
      return { done: true, exitCode: null, reason: 'StreamLost', message: silence.tripped.message };
    } finally {
      ended.abort();
      silence.stop();
      signal?.removeEventListener('abort', onAbort);
      connection.destroy();
    }
    const info = await quickEngineCall(this.ctx, subject, (bounded) => exec.inspect({ abortSignal: bounded }), { signal });
    if (info.Running) return { done: false, exitCode: null, reason: 'Running' };
    if (info.ExitCode === null || info.ExitCode === undefined) return { done: true, exitCode: null, reason: 'Unknown', message: 'the engine reported no exit code' };
    return { done: true, exitCode: info.ExitCode, reason: info.ExitCode === 0 ? 'Completed' : 'Error' };
  }

  async logs(options: ServiceLogOptions): Promise<LogResult> {
    this.ctx.assertOpen();
    const engineId = await serviceEngineId(this.ctx, this.owner, options?.service, options?.signal);
    await deliverLogs(this.ctx, engineId, { kind: 'container', taskId: this.id, namespace: this.ctx.namespace }, options);
    return { streams: 'separate' };
  }

  private get owner() {
    return { kind: 'sandbox', taskId: this.id } as const;
  }

  /** Removes the sandbox and its services at once; idempotent. */
  async cleanup(options: OperationOptions = {}): Promise<void> {
    await this.ctx.life.cleanup(this.id, 'sandbox', async () => {
      await removeContainer(this.ctx, this.engineId, options.signal);
      if (this.task.services.length > 0) await removeServices(this.ctx, this.owner, options.signal);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/**
 * Starts an exec and returns its hijacked connection. The engine answers a start at once;
 * no answer within `livenessIntervalMs` is a half-open connection and rejects with
 * `EngineUnavailableError`. A start is never repeated: the first may have reached the engine.
 */
async function startExec(ctx: DockerContext, exec: Dockerode.Exec, stdin: boolean, tty: boolean, signal: AbortSignal | undefined): Promise<Duplex> {
  const answered = new AbortController();
  const timer = setTimeout(() => answered.abort(), ctx.options.livenessIntervalMs);
  const onAbort = (): void => answered.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return (await engineCall(ctx, { kind: 'start' }, () => exec.start({ hijack: true, stdin, Detach: false, Tty: tty, abortSignal: answered.signal }), { signal })) as unknown as Duplex;
  } catch (error) {
    if (answered.signal.aborted && signal?.aborted !== true) {
      throw new EngineUnavailableError(`the Docker engine did not answer the start of an exec within ${ctx.options.livenessIntervalMs} ms (livenessIntervalMs): a half-open connection`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function resolveWorkDir(base: string, workDir: string): string {
  if (typeof workDir !== 'string' || workDir.trim() === '') throw new InvalidInputError('options.workDir', 'an absolute path or one relative to the sandbox workDir', workDir);
  return validateAbsolutePath(posix.resolve(base, workDir), 'options.workDir');
}

/**
 * Streams stdin into an exec connection whose output is read elsewhere: only the write side is
 * ended, and not on a terminal, whose input stays open as a keyboard's does.
 */
async function pumpStdinKeepingOutput(connection: Duplex, stdin: NonNullable<ExecOptions['stdin']>, endInput: boolean): Promise<void> {
  try {
    for await (const chunk of stdinToReadable(stdin)) {
      await writeWithBackpressure(connection, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    }
    if (endInput) connection.end();
  } catch {
    // The command may exit without reading all of its input.
  }
}
