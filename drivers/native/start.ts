import { watch } from 'node:fs';
import { closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { abortReason } from '../../src/abort.js';
import { ConflictError, ContainerStartError, StartTimeoutError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';
import type { ResolvedTask } from '../../src/validate.js';
import { buildTaskTree, removeTree } from './filesystem.js';
import { LiveProcess } from './live.js';
import type { ReadOnlyMounts } from './options.js';
import { resolveOwner } from './owner.js';
import { plumb } from './pipes.js';
import { spawnProcess, startTicksOf } from './process.js';
import { isCode, readRecord, writeRecord, type TaskRecord } from './record.js';
import { Wakeup } from './logs.js';
import { startServices, stopServices } from './services.js';
import { followResizes, requireTools, stdinFeed, terminalLaunch } from './terminal.js';

/** What starting a task needs from the driver. */
export interface StartContext {
  namespace: string;
  defaultPath: string;
  startTimeoutMs: number;
  readOnlyMounts: ReadOnlyMounts;
  volumeDir(name: string): string;
}

/** The environment of a task: its own variables only, plus a minimal `PATH` when it sets none. */
export function taskEnv(env: Readonly<Record<string, string>>, defaultPath: string): Record<string, string> {
  return 'PATH' in env ? { ...env } : { ...env, PATH: defaultPath };
}

/**
 * Creates the task directory and starts the process, unless the directory exists:
 * `mkdir` is the lock, so of any number of racing callers (in any process) exactly
 * one starts the task and the others wait for its record. Resolves once the record
 * names the process (or says it could not start): `true` when this call started it, `false`
 * when it found the task started by another.
 */
export async function startTask(dir: string, task: ResolvedTask, context: StartContext, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await mkdir(dir);
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
    const record = await awaitRecord(dir, context.startTimeoutMs, signal);
    if (record.id !== task.id) throw new ConflictError(`task directory ${dir} belongs to task "${record.id}", not "${task.id}"`);
    return false;
  }
  try {
    await launch(dir, task, context, signal);
  } catch (error) {
    if (task.services.length > 0) await stopServices(dir, 0);
    await removeTree(dir).catch(() => {});
    if (signal?.aborted) throw abortReason(signal);
    if (error instanceof Error && (error.name === 'InvalidInputError' || error.name === 'ServiceNotReadyError')) throw error;
    throw new ContainerStartError('StartError', `task "${task.id}" could not be prepared: ${(error as Error).message}`, { cause: error });
  }
  return true;
}

async function launch(dir: string, task: ResolvedTask, context: StartContext, signal: AbortSignal | undefined): Promise<void> {
  const owner = resolveOwner(task.user);
  const cwd = await buildTaskTree(join(dir, 'fs'), task.workDir, task.mounts, context.volumeDir, { ...(owner === undefined ? {} : { owner }), readOnly: context.readOnlyMounts });
  signal?.throwIfAborted();
  const base: TaskRecord = {
    id: task.id,
    namespace: context.namespace,
    workDir: task.workDir,
    mounts: task.mounts,
    labels: {
      ...task.labels,
      [LABELS.managed]: 'true',
      [LABELS.namespace]: context.namespace,
      [LABELS.taskId]: task.id,
      [LABELS.role]: 'task',
    },
    status: { done: false, exitCode: null },
    ...(task.tty === undefined ? {} : { tty: true }),
    ownerPid: process.pid,
    ownerStartTicks: startTicksOf(process.pid),
    createdAt: new Date().toISOString(),
  };
  // The process writes into pipes (programs may reopen /dev/stdout); a relay per stream appends
  // each to its file, so the output survives the driver and can be read again.
  // The services run, each ready, before the task's process starts.
  if (task.services.length > 0) await startServices(dir, task.id, task.services, context, (serviceDir, service, inner) => startTask(serviceDir, service, context, inner), signal ?? new AbortController().signal);
  const env = taskEnv(task.env, context.defaultPath);
  const terminal = task.tty === undefined ? undefined : terminalLaunch(requireTools(), task.command, env, task.tty, task.stdin);
  const plumbing = await plumb(dir, [join(dir, 'stdout'), join(dir, 'stderr')], task.stdin === undefined && terminal === undefined ? 0 : 1, owner);
  const [stdoutPipe, stderrPipe] = plumbing.relayed as [number, number];
  const [stdinPipe] = plumbing.pipes;
  let result;
  try {
    result = await spawnProcess({
      command: terminal?.command ?? task.command,
      cwd,
      env: terminal?.env ?? env,
      stdout: stdoutPipe,
      stderr: stderrPipe,
      stdin: stdinFeed(stdinPipe, terminal, task.stdin),
      owner,
    });
  } finally {
    // The child holds its own copies: once it and what it starts are gone, the relays see the end.
    for (const fd of plumbing.relayed) closeSync(fd);
  }
  const now = new Date().toISOString();
  const relays = { pid: plumbing.pid, exit: plumbing.exit };
  if (result.child === undefined) {
    await relays.exit;
    await writeRecord(dir, { ...base, status: result.status, startedAt: now, finishedAt: now });
    return;
  }
  const helperTicks = startTicksOf(plumbing.pid);
  const record = { ...base, pid: result.pid, pidStartTicks: startTicksOf(result.pid), relays: [helperTicks === undefined ? { pid: plumbing.pid } : { pid: plumbing.pid, startTicks: helperTicks }], startedAt: now };
  const recorded = writeRecord(dir, record);
  const live = new LiveProcess(dir, result.pid, result.exit, task.timeoutMs, recorded, relays);
  if (terminal !== undefined) followResizes(requireTools(), result.pid, task.terminalSizes, result.exit);
  await recorded;
  if (signal?.aborted) {
    // Aborted after the start: leave nothing running.
    live.kill();
    await live.exited;
    throw abortReason(signal);
  }
}

/** Waits for the record of a task another caller is starting; woken by the directory's events. */
async function awaitRecord(dir: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  const wake = new Wakeup();
  let watcher;
  try {
    watcher = watch(dir, { persistent: false }, () => wake.fire());
    watcher.on('error', () => wake.fire());
  } catch {
    watcher = undefined;
  }
  try {
    for (;;) {
      wake.reset();
      const record = await readRecord(dir);
      if (record !== undefined) return record;
      const left = deadline - Date.now();
      if (left <= 0) throw new StartTimeoutError(`task directory ${dir} exists but its task did not start within ${timeoutMs} ms`, timeoutMs);
      // The poll only covers a directory removed and re-created under the watcher.
      await wake.next(signal, Math.min(left, 250));
    }
  } finally {
    watcher?.close();
  }
}
