import { randomBytes } from 'node:crypto';
import { CollectingWritable } from '../logs.js';
import { EXIT } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { defaultDriverName } from './pick-driver.js';
import { reportError } from './report-error.js';
import { exitCodeOf } from './run.js';
import { runTaskToEnd } from './run-task.js';
import { parseCommandLine } from './usage.js';

export const DEMO_USAGE = `Usage: drivetrain demo

Runs \`echo hello\` in busybox through the best available driver (docker when an
engine answers, else native) and prints the driver, the output and the exit code.

Exit codes: 0 when the demo task exited 0; otherwise its code, or 125 when it could not run.
`;

/** `drivetrain demo`: one `echo hello`, end to end. */
export async function demoCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, {}, DEMO_USAGE);
  if (values.help === true) {
    process.stdout.write(DEMO_USAGE);
    return EXIT.ok;
  }
  const interrupts = watchInterrupts();
  try {
    const driverName = await defaultDriverName();
    process.stdout.write(`driver: ${driverName}\n`);
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const task = { id: `demo-${randomBytes(4).toString('hex')}`, image: 'busybox', command: ['echo', 'hello'] };
    const status = await runTaskToEnd(driverName, undefined, task, { stdout, stderr, signal: interrupts.signal });
    process.stdout.write(`output: ${stdout.text().trimEnd()}\n`);
    if (stderr.text() !== '') process.stdout.write(`stderr: ${stderr.text().trimEnd()}\n`);
    const code = exitCodeOf(status, task.command[0]);
    process.stdout.write(`exit code: ${status.exitCode === null ? `none (${status.reason ?? 'unknown'})` : code}\n`);
    return interrupts.exitCode ?? code;
  } catch (error) {
    return interrupts.exitCode ?? reportError(error, EXIT.couldNotRun);
  } finally {
    interrupts.dispose();
  }
}
