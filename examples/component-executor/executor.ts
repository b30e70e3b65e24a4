import type { Writable } from 'node:stream';
import { createK8sDriver, type K8sDriver } from 'drivetrain/k8s';
import type { LocalTerminal } from './terminal.ts';

/** The project's configuration (emb.config.json): components, tasks, Kubernetes settings. */
export interface Config {
  kubernetes?: { namespace?: string; context?: string };
  components: Record<string, { kubernetes?: { deployment?: string; container?: string } }>;
  tasks: Record<string, TaskConfig>;
}

/** A task: a script run in a component's pod. */
export interface TaskConfig {
  component: string;
  script: string;
  env?: Record<string, string>;
  workingDir?: string;
  /** Runs on a terminal (a shell, a REPL): the caller lends its own (see terminal.ts). */
  interactive?: boolean;
}

/** Where the Kubernetes namespace came from. */
export type NamespaceSource = 'flag' | 'config' | 'env' | 'context';

/**
 * The Kubernetes namespace: `--namespace` > the config's `kubernetes.namespace` > `K8S_NAMESPACE`
 * > the kubeconfig context's namespace > `default` (the last two are the driver's own resolution).
 */
export function resolveNamespace(flag: string | undefined, config: Config, env: NodeJS.ProcessEnv = process.env): { namespace?: string; source: NamespaceSource } {
  if (flag !== undefined) return { namespace: flag, source: 'flag' };
  if (config.kubernetes?.namespace !== undefined) return { namespace: config.kubernetes.namespace, source: 'config' };
  if (env.K8S_NAMESPACE !== undefined && env.K8S_NAMESPACE !== '') return { namespace: env.K8S_NAMESPACE, source: 'env' };
  return { source: 'context' };
}

/** A task failed before it ran, with what to check. */
export class TaskSetupError extends Error {
  override name = 'TaskSetupError';
}

/** Runs tasks in the pods of the components' Deployments: the `kubernetes` executor. */
export class KubernetesExecutor {
  private readonly config: Config;
  private readonly driver: K8sDriver;

  constructor(config: Config, namespace: string | undefined) {
    this.config = config;
    this.driver = createK8sDriver({ kubernetesNamespace: namespace, context: config.kubernetes?.context });
  }

  /** The Kubernetes namespace in use, whichever source gave it. */
  get namespace(): string {
    return this.driver.kubernetesNamespace;
  }

  /** Whether the task needs a terminal. */
  isInteractive(taskName: string): boolean {
    return this.config.tasks[taskName]?.interactive === true;
  }

  /**
   * Runs `task` in the first ready pod of its component's Deployment; resolves with its exit code.
   * An interactive task runs on a terminal (`kubectl exec -it`): `terminal`'s size, resized with
   * it, its keys as the task's input; its output is the terminal's stream, all on `stdout`.
   */
  async run(taskName: string, io: { stdout: Writable; stderr: Writable; signal?: AbortSignal; terminal?: LocalTerminal }): Promise<number | null> {
    const task = this.config.tasks[taskName];
    if (task === undefined) throw new TaskSetupError(`unknown task "${taskName}"; tasks: ${Object.keys(this.config.tasks).join(', ')}`);
    const component = this.config.components[task.component];
    if (component === undefined) throw new TaskSetupError(`task "${taskName}": unknown component "${task.component}"`);
    const terminal = task.interactive === true ? io.terminal : undefined;
    if (task.interactive === true && terminal === undefined) throw new TaskSetupError(`task "${taskName}" is interactive: it needs a terminal`);
    // A component is deployed as the Deployment of its name (1:1 with the Compose service).
    const status = await this.driver.execInWorkload({
      deployment: component.kubernetes?.deployment ?? task.component,
      container: component.kubernetes?.container,
      command: shellCommand(task),
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      ...(terminal === undefined ? {} : { tty: terminal.size, terminalSizes: terminal.sizes, stdin: terminal.stdin }),
    });
    return status.exitCode;
  }

  /** Nothing to reap (the executor makes nothing); stops the driver. */
  close(): Promise<void> {
    return this.driver.close();
  }
}

/**
 * `sh -c script` in the task's directory with its variables. exec has neither a working
 * directory nor an environment of its own, so a small wrapper sets them; the directory,
 * the variables and the script are separate arguments, never pasted into a string.
 */
function shellCommand(task: TaskConfig): string[] {
  const pairs = Object.entries(task.env ?? {}).map(([name, value]) => `${name}=${value}`);
  return ['sh', '-c', 'cd -- "$1" || exit 126; shift; exec env -- "$@"', 'sh', task.workingDir ?? '/', ...pairs, 'sh', '-c', task.script];
}
