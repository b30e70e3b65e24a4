#!/usr/bin/env node
/**
 * The `drivetrain` command line: `run`, `exec`, `cleanup`, `conformance`, `doctor`, `demo`.
 * Each command lives in its own file and resolves with the process's exit code.
 */
import { EXIT } from './exit-codes.js';
import { packageVersion } from './package-root.js';
import { reportError } from './report-error.js';
import { printEvents, takeVerbose } from './events.js';
import { UsageError } from './usage.js';

export const MAIN_USAGE = `Usage: drivetrain <command> [options]

Run tasks in containers through one driver interface (docker, native, k8s).

Commands:
  run          run a command in an image, stream its output, exit with its code
  exec         run a command in a Kubernetes workload's pod (kubectl exec), -it on a terminal
  cleanup      remove what a crashed run left in a namespace
  conformance  run the conformance suite against a driver (needs the repository)
  doctor       check a driver's environment (docker, k8s)
  demo         run \`echo hello\` through the best available driver

Run \`drivetrain <command> --help\` for a command's options; \`drivetrain --version\`
prints the version. With --verbose (before or after the command), every command prints
what the driver does on stderr: starts, waits, exits, removals, image pulls, engine
requests and retries (docs/events.md).

Exit codes: 0 ok; 1 a command failed; 2 bad usage; 125 a task could not run;
130/143 interrupted by SIGINT/SIGTERM; 141 output closed; \`run\` and \`exec\`
otherwise exit with the command's code.
`;

/**
 * Each command's module, imported only when that command runs: `--help`, `--version` and
 * one command load nothing of the others (docs/performance.md, P8).
 */
const COMMANDS: Record<string, (args: readonly string[]) => Promise<number>> = {
  run: async (args) => (await import('./run.js')).runCommand(args),
  exec: async (args) => (await import('./exec.js')).execCommand(args),
  cleanup: async (args) => (await import('./cleanup.js')).cleanupCommand(args),
  conformance: async (args) => (await import('./conformance.js')).conformanceCommand(args),
  doctor: async (args) => (await import('./doctor.js')).doctorCommand(args),
  demo: async (args) => (await import('./demo.js')).demoCommand(args),
};

/** Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const given = takeVerbose(argv);
  const [command, ...rest] = given.argv;
  const stopPrinting = given.verbose ? printEvents(process.stderr) : undefined;
  try {
    if (command === undefined) throw new UsageError('missing command', MAIN_USAGE);
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(MAIN_USAGE);
      return EXIT.ok;
    }
    if (command === '--version') {
      process.stdout.write(`drivetrain ${packageVersion()}\n`);
      return EXIT.ok;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (run === undefined) {
      const what = command.startsWith('-') ? `unknown option "${command}"` : `unknown command "${command}"`;
      throw new UsageError(what, MAIN_USAGE);
    }
    return await run(rest);
  } catch (error) {
    return reportError(error);
  } finally {
    stopPrinting?.();
  }
}

/** Exits once stdout and stderr have taken everything written (pipes may still be flushing). */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  // A reader that never drains must not hold the exit forever.
  setTimeout(() => process.exit(code), 2000).unref();
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// Exit explicitly: a task's stdin (`-i`) or an engine socket must not keep the CLI alive.
main(process.argv.slice(2)).then(exitAfterFlush, (error: unknown) => exitAfterFlush(reportError(error)));
