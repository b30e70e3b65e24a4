import { posix } from 'node:path';
import { InvalidInputError } from '../../src/errors.js';
import type { ExecOptions } from '../../src/types.js';
import { isWellFormedText, validateCommand, validateEnv } from '../../src/validate.js';

/**
 * How an exec's `env` and `workDir` reach the command (a sandbox's `exec`, `execInWorkload`):
 * Kubernetes' exec takes only an argv, so they travel in the argv of a small wrapper.
 */

/**
 * The argv that runs `command` in `workDir` with `env` added, without ever joining
 * arguments into a shell string: the script is constant and everything else is passed
 * as positional parameters (`$1` = directory, then `NAME=value` pairs, then the command).
 */
export function sandboxExecArgv(command: readonly string[], workDir: string, env: Readonly<Record<string, string>>): string[] {
  const pairs = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  // `env` takes NAME=value words up to the first word without "=": the command. `--` ends its
  // options first, so a name such as `-u` or `--chdir` (or a command starting with `-`) is
  // never read as one.
  return ['sh', '-c', 'cd "$1" || exit 126; shift; exec env -- "$@"', 'drivetrain-exec', workDir, ...pairs, ...command];
}

/** What {@link execSettings} resolved: the variables to add and the directory to run in. */
export interface ExecSettings {
  env: Readonly<Record<string, string>>;
  /** `undefined`: the container's own working directory. */
  workDir: string | undefined;
}

/**
 * Validates an exec's `command`, `env` and `workDir` (the sandbox's and `execInWorkload`'s
 * rules, one set of errors): a relative `workDir` is resolved against `baseWorkDir`, or left
 * to the shell (so against the container's working directory) when there is none. A
 * `command[0]` with "=" is refused whenever the command runs through `env`
 * ({@link needsWrapper}), which would take it for a variable.
 */
export function execSettings(command: readonly string[], options: Pick<ExecOptions, 'env' | 'workDir'>, baseWorkDir: string | undefined): ExecSettings {
  validateCommand(command, 'command');
  const env = validateEnv(options.env, 'options.env');
  let workDir = baseWorkDir;
  if (options.workDir !== undefined) {
    if (typeof options.workDir !== 'string' || options.workDir === '' || options.workDir.includes('\0') || !isWellFormedText(options.workDir)) {
      throw new InvalidInputError('options.workDir', `an absolute path or one relative to the ${baseWorkDir === undefined ? "container's working directory" : 'sandbox workDir'}`, options.workDir);
    }
    workDir = baseWorkDir === undefined ? options.workDir : posix.resolve(baseWorkDir, options.workDir);
  }
  const settings = { env, workDir };
  if (needsWrapper(settings) && (command[0] as string).includes('=')) {
    throw new InvalidInputError('command[0]', 'a program name without "=" (it would be read as a variable assignment)', command[0]);
  }
  return settings;
}

/** Whether an exec runs through a wrapper (see {@link execArgv}): when it has a directory to go to or variables to add. */
export function needsWrapper(settings: ExecSettings): boolean {
  return settings.workDir !== undefined || Object.keys(settings.env).length > 0;
}

/**
 * The argv of an exec with these settings: `sandboxExecArgv` with a directory; `env -- NAME=value …
 * command` with variables only; else the command itself (no shell or `env` needed in the container).
 */
export function execArgv(command: readonly string[], settings: ExecSettings): string[] {
  if (settings.workDir !== undefined) return sandboxExecArgv(command, settings.workDir, settings.env);
  if (!needsWrapper(settings)) return [...command];
  return ['env', '--', ...Object.entries(settings.env).map(([name, value]) => `${name}=${value}`), ...command];
}
