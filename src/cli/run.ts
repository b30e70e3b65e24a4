import type { ContainerStatus } from '../types.js';
import { EXIT } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { defaultDriverName } from './pick-driver.js';
import { reportError } from './report-error.js';
import { RUN_USAGE, flagError, parseRunArgs } from './run-args.js';
import { runTaskToEnd } from './run-task.js';
import { reportStartWaiting } from './start-waiting.js';
import { openTerminalSession } from './terminal-session.js';
import { showPullProgress } from './events.js';

/** Reasons worth a line on stderr even when the task has an exit code. */
const NOTABLE_REASONS = new Set(['OOMKilled', 'DeadlineExceeded']);
/** The reason of a task whose command could not be executed (not found: 127, not executable: 126). */
const CANNOT_RUN = 'ContainerCannotRun';

/** `drivetrain run`: runs one task, streams its output and exits with its exit code. */
export async function runCommand(args: readonly string[]): Promise<number> {
  const parsed = parseRunArgs(args);
  if (parsed.help) {
    process.stdout.write(RUN_USAGE);
    return EXIT.ok;
  }
  const interrupts = watchInterrupts();
  const terminal = openTerminalSession(parsed.terminal);
  const stopReporting = reportStartWaiting(process.stderr);
  const stopProgress = showPullProgress(process.stderr);
  try {
    const driverName = parsed.driver ?? (await defaultDriverName());
    const status = await runTaskToEnd(
      driverName,
      parsed.namespace,
      { ...parsed.task, ...terminal.fields },
      { stdout: process.stdout, stderr: process.stderr, signal: interrupts.signal, started: () => terminal.enterRawMode(), finished: () => terminal.close() },
      parsed.driverOptions,
    );
    return interrupts.exitCode ?? exitCodeOf(status, parsed.task.command[0]);
  } catch (error) {
    if (interrupts.exitCode !== undefined) return interrupts.exitCode;
    // A value the driver refused (a user name on k8s, say) is still the flag's fault: exit 2.
    return reportError(flagError(error, parsed) ?? error, EXIT.couldNotRun);
  } finally {
    terminal.close();
    stopReporting();
    stopProgress();
    interrupts.dispose();
  }
}

/**
 * The task's own exit code; never invented: without one, 125 and the reason on stderr.
 * A command that could not be executed (126, 127) is named on stderr, as `docker run` does.
 */
export function exitCodeOf(status: ContainerStatus, program?: string): number {
  const detail = [status.reason, status.message].filter(Boolean).join(': ');
  if (status.exitCode === null) {
    process.stderr.write(`drivetrain: the task ended without an exit code (${detail || 'no reason given'})\n`);
    return EXIT.couldNotRun;
  }
  if (status.reason === CANNOT_RUN) {
    const what = program === undefined ? 'the command' : JSON.stringify(program);
    process.stderr.write(`drivetrain: ${what}: ${status.message ?? 'could not be executed'} (${CANNOT_RUN}, exit ${status.exitCode})\n`);
  } else if (status.reason !== undefined && NOTABLE_REASONS.has(status.reason)) {
    process.stderr.write(`drivetrain: the task ended with ${status.exitCode} (${detail})\n`);
  }
  return status.exitCode;
}
