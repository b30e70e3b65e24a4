import { readFileSync } from 'node:fs';

/**
 * Telling a live process from a dead one by pid and kernel start time (Linux `/proc`), so a
 * pid the kernel reused for an unrelated process is never mistaken for the one recorded.
 */

/**
 * True while `pid` is the same process that was recorded (its kernel start time
 * matches), so a pid reused by an unrelated process is never mistaken for it.
 */
export function processAlive(pid: number, startTicks: number | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EPERM') return false;
  }
  if (isZombie(pid)) return false;
  if (startTicks === undefined) return true;
  const now = startTicksOf(pid);
  return now === undefined || now === startTicks;
}

/** The kernel start time of a process in clock ticks since boot (Linux), or undefined. */
export function startTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses); starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True for a zombie (exited, not yet reaped) process: it is dead for every purpose but its exit code. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** This boot of the host (`/proc/sys/kernel/random/boot_id`), or `''` where the kernel does not say. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
