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
  ) {
    live.set(dir, this);
    this.exited = new Promise((resolve) => {
      void exit.then(({ code, signal }) => {
        clearTimeout(this.deadlineTimer);
        // Like a container whose main process ended: nothing it left behind keeps running.
        signalGroup(pid, 'SIGKILL');
        const exitCode = exitCodeOf(code, signal);
        const status: ContainerStatus = this.deadlineExceeded
          ? { done: true, exitCode, reason: 'DeadlineExceeded', message: `killed after the task's timeoutMs of ${timeoutMs} ms` }
          : exitCode === null
            ? { done: true, exitCode: null, reason: 'Error', message: 'the process ended without an exit code' }
            : { done: true, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' };
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

async function recordFinal(dir: string, status: ContainerStatus): Promise<void> {
  try {
    const record = await readRecord(dir);
    if (record === undefined) return; // removed meanwhile: nothing left to record into
    await writeRecord(dir, { ...record, status, finishedAt: new Date().toISOString() });
  } catch {
    // The directory is being removed by a cleanup; the in-memory status still answers.
  }
}
