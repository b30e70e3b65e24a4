import { posix } from 'node:path';
import type { ContainerStatus, ExecOptions, LogResult, OperationOptions, Sandbox, ServiceLogOptions } from '../../src/types.js';
import type { LogStreamSupport } from './log-streams.js';
import { readServiceLogs } from './services.js';
import { InvalidInputError } from '../../src/errors.js';
import { isWellFormedText, validateCommand, validateEnv } from '../../src/validate.js';
import { validateTerminalOptions } from '../../src/terminal.js';
import type { K8sContext } from './context.js';
import { TASK_CONTAINER } from './naming.js';
import { execInPod } from './remote.js';
import { removePod } from './container.js';

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

/** A long-lived pod running the idle loop; commands run in it over exec. */
export class K8sSandbox implements Sandbox {
  constructor(
    private readonly ctx: K8sContext,
    readonly id: string,
    readonly podName: string,
    private readonly workDir: string,
    private readonly logSupport: LogStreamSupport,
  ) {}

  /** A service's output: its sidecar container's log. */
  async logs(options: ServiceLogOptions): Promise<LogResult> {
    return readServiceLogs(this.ctx, this.podName, this.id, options ?? {}, this.logSupport);
  }

  async exec(command: readonly string[], options: ExecOptions = {}): Promise<ContainerStatus> {
    validateCommand(command, 'command');
    const terminal = validateTerminalOptions(options, 'options');
    if ((command[0] as string).includes('=')) {
      throw new InvalidInputError('command[0]', 'a program name without "=" (it would be read as a variable assignment)', command[0]);
    }
    const env = validateEnv(options.env, 'options.env');
    let workDir = this.workDir;
    if (options.workDir !== undefined) {
      if (typeof options.workDir !== 'string' || options.workDir === '' || options.workDir.includes('\0') || !isWellFormedText(options.workDir)) {
        throw new InvalidInputError('options.workDir', 'an absolute path or one relative to the sandbox workDir', options.workDir);
      }
      workDir = posix.resolve(this.workDir, options.workDir);
    }
    return execInPod(this.ctx, { namespace: this.ctx.ns, pod: this.podName, container: TASK_CONTAINER }, sandboxExecArgv(command, workDir, env), {
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
      signal: options.signal,
      ...terminal,
    });
  }

  async cleanup(options: OperationOptions = {}): Promise<void> {
    await this.ctx.life.cleanup(this.id, 'sandbox', () => removePod(this.ctx, this.podName, options.signal));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
