import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { ContainerStatus } from '../../src/types.js';
import type { Owner } from './filesystem.js';
import { closePipes, type PipeEnds } from './pipes.js';
import { isCode } from './record.js';
import { isZombie, processAlive, startTicksOf } from '../../src/kit/process-identity.js';

export { isZombie, processAlive, startTicksOf };

/** What a host process needs to start. */
export interface SpawnRequest {
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** The write ends of the pipes the process's stdout and stderr are (see `plumb`). */
  stdout: number;
  stderr: number;
  /**
   * Standard input, fed through `pipe` (whose read end the process gets; both ends are closed
   * here). Without it the process reads `/dev/null` (immediate EOF).
   */
  stdin?: { source: Readable; pipe: PipeEnds; keepOpen?: boolean };
  owner?: Owner;
}

/** A started process, or why it could not start (with its shell-style exit code). */
export type SpawnResult = { child: ChildProcess; pid: number; exit: Promise<ProcessExit> } | { child?: undefined; status: ContainerStatus };

/** How a process ended, as its 'exit' event tells. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Starts the process in its own process group (so the whole group can be killed)
 * without a shell. A program that cannot be started is reported like a shell does:
 * 127 when it is not found, 126 when it cannot be executed.
 */
export async function spawnProcess(request: SpawnRequest): Promise<SpawnResult> {
  const [file, ...args] = request.command as [string, ...string[]];
  const stdinPipe = request.stdin?.pipe;
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: [stdinPipe?.read ?? 'ignore', request.stdout, request.stderr],
      uid: request.owner?.uid,
      gid: request.owner?.gid,
      windowsHide: true,
    });
  } catch (error) {
    if (stdinPipe !== undefined) closePipes([stdinPipe], 'write');
    throw error;
  } finally {
    // The child has its own copy of the read end (or never started).
    if (stdinPipe !== undefined) closePipes([stdinPipe], 'read');
  }
  // Listened for at once: a short-lived process may end before the caller gets to listen.
  const exit = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const started = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (started !== undefined || child.pid === undefined) {
    if (stdinPipe !== undefined) closePipes([stdinPipe], 'write');
    return { status: startFailure(started) };
  }
  if (request.stdin !== undefined) {
    feedStdin(request.stdin.source, new Socket({ fd: request.stdin.pipe.write, readable: false, writable: true }), exit, request.stdin.keepOpen === true);
  }
  return { child, pid: child.pid, exit };
}

function startFailure(error: Error | undefined): ContainerStatus {
  if (isCode(error, 'ENOENT')) return { done: true, exitCode: 127, reason: 'ContainerCannotRun', message: 'command not found' };
  if (isCode(error, 'EACCES') || isCode(error, 'ENOEXEC') || isCode(error, 'EISDIR')) {
    return { done: true, exitCode: 126, reason: 'ContainerCannotRun', message: 'permission denied: command not executable' };
  }
  // No exit code is invented for a start that failed for another reason.
  return { done: true, exitCode: null, reason: 'StartError', message: error?.message ?? 'the process did not start' };
}

/**
 * Streams stdin into the process's pipe and ends it (unless `keepOpen`: a terminal's input stays
 * open until the process ends); a process that exits early (EPIPE) is not an error.
 */
function feedStdin(source: Readable, sink: Socket, exited: Promise<unknown>, keepOpen: boolean): void {
  sink.on('error', () => {});
  source.on('error', () => sink.destroy());
  void exited.then(() => {
    source.unpipe(sink);
    source.destroy();
    sink.destroy();
  });
  source.pipe(sink, { end: !keepOpen });
}

/** The exit code of a process that ended: its own, or 128+n when signal n killed it. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  if (signal !== null) {
    const number = constants.signals[signal];
    if (number !== undefined) return 128 + number;
  }
  return null;
}

/** Sends `signal` to the whole process group of `pid`; "no such process" is success. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (!isCode(error, 'ESRCH')) throw error;
  }
}

/**
 * True while the process group `pgid` has a member that is not a zombie. Zombies
 * count as gone: they are dead and only wait for a parent (possibly a slow init) to
 * reap them.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if (!isCode(error, 'EPERM')) return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // No /proc: the signal probe is all there is.
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    } catch {
      // Gone while we looked.
    }
  }
  return false;
}

/** Whether it is safe to signal the group `pid` leads: never a group of an unrelated process that reused the pid. */
function mayStillOwnGroup(pid: number, startTicks: number | undefined): boolean {
  const now = startTicksOf(pid);
  // No such process: the kernel does not reuse a pid while a group of that id lives, so any group left is the task's.
  return now === undefined || startTicks === undefined || now === startTicks;
}

/**
 * Stops a task's process group: SIGTERM, up to `graceMs` for it to go, then SIGKILL.
 * `exited` settles when an own child has ended; other processes are polled. Bounded.
 */
export async function stopGroup(pid: number, startTicks: number | undefined, graceMs: number, exited?: Promise<unknown>): Promise<void> {
  if (!mayStillOwnGroup(pid, startTicks) || !groupAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  await untilGone(pid, graceMs, exited);
  if (groupAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    await untilGone(pid, 2_000, exited);
  }
}

async function untilGone(pid: number, ms: number, exited: Promise<unknown> | undefined): Promise<void> {
  const deadline = Date.now() + ms;
  if (exited !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
  while (groupAlive(pid) && Date.now() < deadline) await sleep(20);
}

// Kept referenced: a stop in progress is awaited by its caller, and ends within its bound.
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Process groups that have a member whose working directory lies under `dir`
 * (Linux; none elsewhere). A sweep by directory finds what no record names: execs
 * of a sandbox started by another driver instance, for one. The driver's own group
 * is never returned.
 */
export function groupsWorkingUnder(dir: string): number[] {
  const own = groupOf(process.pid);
  const groups = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    const group = groupOf(Number(entry));
    if (group !== undefined && group !== own && group > 1) groups.add(group);
  }
  return [...groups];
}

function groupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(group) ? group : undefined;
  } catch {
    return undefined;
  }
}
