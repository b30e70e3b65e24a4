import type { ContainerStatus } from '../../src/types.js';
import { exitCodeOf, signalGroup, type ProcessExit } from './process.js';
import { readRecord, writeRecord } from './record.js';

/**
 * The processes this Node process started, by task directory. Shared by every
 * driver instance of the process, so a fresh instance follows a task of another
 * instance by its events instead of polling.
 */
const live = new Map<string, LiveProcess>();

/** A running child of this Node process and the promise of its final status. */
export class LiveProcess {
  /** Resolves once the process has ended and its final status is recorded. */
  readonly exited: Promise<ContainerStatus>;
  private deadlineExceeded = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private final: ContainerStatus | undefined;

  constructor(
    readonly dir: string,
    readonly pid: number,
    exit: Promise<ProcessExit>,
    timeoutMs: number | undefined,
    /** The write of the record that names this process; the final status is recorded after it. */
    recorded: Promise<unknown>,
    /** The relays of its output (a process group): the task is over once they have copied everything. */
    relays?: OutputRelays,
  ) {
    live.set(dir, this);
    this.exited = new Promise((resolve) => {
      void exit.then(async ({ code, signal }) => {
        clearTimeout(this.deadlineTimer);
        // Like a container whose main process ended: nothing it left behind keeps running.
        signalGroup(pid, 'SIGKILL');
        const exitCode = exitCodeOf(code, signal);
        const status: ContainerStatus = this.deadlineExceeded
          ? { done: true, exitCode, reason: 'DeadlineExceeded', message: `killed after the task's timeoutMs of ${timeoutMs} ms` }
          : exitCode === null
            ? { done: true, exitCode: null, reason: 'Error', message: 'the process ended without an exit code' }
            : { done: true, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' };
        // Done means every byte is in the files: a follow that sees the end reads them to the last.
        await drainRelays(relays);
        this.final = status;
        void recorded
          .catch(() => {})
          .then(() => recordFinal(dir, status))
          .finally(() => {
          live.delete(dir);
          resolve(status);
        });
      });
    });
    if (timeoutMs !== undefined) {
      this.deadlineTimer = setTimeout(() => {
        this.deadlineExceeded = true;
        signalGroup(pid, 'SIGKILL');
      }, timeoutMs);
      this.deadlineTimer.unref();
    }
  }

  /** Kills the whole process group at once. */
  kill(): void {
    signalGroup(this.pid, 'SIGKILL');
  }

  /** The status now: running until the exit event, final after. */
  status(): ContainerStatus {
    return this.final ?? { done: false, exitCode: null };
  }
}

/** The live process of a task directory, when this Node process started it and it has not been recorded as ended. */
export function liveProcess(dir: string): LiveProcess | undefined {
  return live.get(dir);
}

/** Every live process whose task directory lies under `parent`. */
export function liveProcessesUnder(parent: string): LiveProcess[] {
  return [...live.values()].filter((p) => p.dir.startsWith(`${parent}/`));
}

/**
 * Waits for the relays to reach the end of their pipes. A pipe stays open while anything
 * holds its write end; the task's group is gone by now, so only a process that left the
 * group keeps it: after {@link RELAY_DRAIN_MS} the relays are stopped, and what such a process
 * writes later is not kept.
 */
async function drainRelays(relays: OutputRelays | undefined): Promise<void> {
  if (relays === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([relays.exit.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), RELAY_DRAIN_MS)))]);
  clearTimeout(timer);
  if (!late) return;
  signalGroup(relays.pid, 'SIGKILL');
  await relays.exit;
}

/** The process group copying a task's output into its files, and when it has ended. */
export interface OutputRelays {
  pid: number;
  exit: Promise<unknown>;
}

/** How long the relays get to copy what is left in the pipes once the task's group is gone, in milliseconds. */
const RELAY_DRAIN_MS = 10_000;

async function recordFinal(dir: string, status: ContainerStatus): Promise<void> {
  try {
    const record = await readRecord(dir);
    if (record === undefined) return; // removed meanwhile: nothing left to record into
    await writeRecord(dir, { ...record, status, finishedAt: new Date().toISOString() });
  } catch {
    // The directory is being removed by a cleanup; the in-memory status still answers.
  }
}
