import type { ContainerStatus, ExecOptions, LogResult, OperationOptions, Sandbox, ServiceLogOptions } from '../../src/types.js';
import type { LogStreamSupport } from './log-streams.js';
import { readServiceLogs } from './services.js';
import { validateTerminalOptions } from '../../src/terminal.js';
import type { K8sContext } from './context.js';
import { TASK_CONTAINER } from './naming.js';
import { execInPod } from './remote.js';
import { execArgv, execSettings } from './exec-argv.js';
import { removePod } from './container.js';

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
    // Every sandbox exec runs through the wrapper: it has the sandbox's workDir at least.
    const settings = execSettings(command, options, this.workDir);
    const terminal = validateTerminalOptions(options, 'options');
    return execInPod(this.ctx, { namespace: this.ctx.ns, pod: this.podName, container: TASK_CONTAINER }, execArgv(command, settings), {
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
