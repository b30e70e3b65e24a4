import type { ContainerStatus } from '../types.js';
import { EXIT } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { defaultDriverName } from './pick-driver.js';
import { reportError } from './report-error.js';
import { RUN_USAGE, parseRunArgs } from './run-args.js';
import { runTaskToEnd } from './run-task.js';
import { reportStartWaiting } from './start-waiting.js';

/** Reasons worth a line on stderr even when the task has an exit code. */
const NOTABLE_REASONS = new Set(['OOMKilled', 'DeadlineExceeded']);

/** `drivetrain run`: runs one task, streams its output and exits with its exit code. */
export async function runCommand(args: readonly string[]): Promise<number> {
  const parsed = parseRunArgs(args);
  if (parsed.help) {
    process.stdout.write(RUN_USAGE);
    return EXIT.ok;
  }
  const interrupts = watchInterrupts();
  const stopReporting = reportStartWaiting(process.stderr);
  try {
    const driverName = parsed.driver ?? (await defaultDriverName());
    const status = await runTaskToEnd(
      driverName,
      parsed.namespace,
      parsed.task,
      { stdout: process.stdout, stderr: process.stderr, signal: interrupts.signal },
      parsed.driverOptions,
    );
    return interrupts.exitCode ?? exitCodeOf(status);
  } catch (error) {
    if (interrupts.exitCode !== undefined) return interrupts.exitCode;
    return reportError(error, EXIT.couldNotRun);
  } finally {
    stopReporting();
    interrupts.dispose();
  }
}

/** The task's own exit code; never invented: without one, 125 and the reason on stderr. */
export function exitCodeOf(status: ContainerStatus): number {
  const detail = [status.reason, status.message].filter(Boolean).join(': ');
  if (status.exitCode === null) {
    process.stderr.write(`drivetrain: the task ended without an exit code (${detail || 'no reason given'})\n`);
    return EXIT.couldNotRun;
  }
  if (status.reason !== undefined && NOTABLE_REASONS.has(status.reason)) {
    process.stderr.write(`drivetrain: the task ended with ${status.exitCode} (${detail})\n`);
  }
  return status.exitCode;
}
