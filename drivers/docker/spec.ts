import type Dockerode from 'dockerode';
import { LABELS, type ResourceRole } from '../../src/labels.js';
import type { ResolvedTask } from '../../src/validate.js';
import { DOCKER_LABELS, baseLabels, volumeName } from './naming.js';

/** The parts of a task a container spec is built from (a sandbox has no command). */
export type ContainerTask = Omit<ResolvedTask, 'command' | 'stdin' | 'timeoutMs'> & {
  command: readonly string[];
  openStdin: boolean;
  timeoutMs?: number | undefined;
};

/**
 * The log driver of every container: `local` stores each message's bytes as they are
 * (protobuf `bytes`), where the engine's default `json-file` stores JSON strings and
 * rewrites invalid UTF-8 as U+FFFD. Its size limit is set far beyond any task's output,
 * so that nothing is rotated away (the driver's own default keeps only 100 MB, and a limit
 * of 0 would rotate on every message).
 */
export const LOG_CONFIG = { Type: 'local', Config: { 'max-size': '1t' } } as const;

/** The engine's create request for a task (see `prepareScratchDir` for the default working directory). */
export function containerSpec(
  task: ContainerTask,
  options: { name: string; namespace: string; role: ResourceRole; networkMode: string | undefined; init?: boolean },
): Dockerode.ContainerCreateOptions {
  const labels: Record<string, string> = {
    ...task.labels,
    ...baseLabels(options.namespace, options.role),
    [LABELS.taskId]: task.id,
  };
  if (task.timeoutMs !== undefined) labels[DOCKER_LABELS.timeoutMs] = String(task.timeoutMs);
  const hostConfig: Dockerode.HostConfig = {
    LogConfig: LOG_CONFIG,
    Privileged: task.privileged,
    Mounts: task.mounts.map((m) => ({ Type: 'volume', Source: volumeName(options.namespace, m.volume), Target: m.path, ReadOnly: m.readOnly })),
  };
  if (task.limits.cpuShares !== undefined) hostConfig.CpuShares = task.limits.cpuShares;
  if (task.limits.memoryBytes !== undefined) {
    // Swap equal to the limit means no swap: the limit is really hit and the OOM killer acts.
    hostConfig.Memory = task.limits.memoryBytes;
    hostConfig.MemorySwap = task.limits.memoryBytes;
  }
  if (options.networkMode !== undefined) hostConfig.NetworkMode = options.networkMode;
  // A terminal's Ctrl-C is a SIGINT to its foreground process group, which a PID 1 ignores unless it
  // handles it: under Docker's init (tini) the task is a child made the terminal's foreground group.
  if (options.init === true || task.tty !== undefined) hostConfig.Init = true;
  // [height, width]; taken by engines from API 1.42 (Docker 23), see `driveTerminal` for older ones.
  if (task.tty !== undefined) hostConfig.ConsoleSize = [task.tty.rows, task.tty.columns];
  const spec: Dockerode.ContainerCreateOptions = {
    name: options.name,
    Image: task.image,
    // The command replaces the image's entrypoint too: it is run as given, like a Kubernetes `command`.
    Entrypoint: task.command.slice(0, 1),
    Cmd: task.command.slice(1),
    Env: Object.entries(task.env).map(([key, value]) => `${key}=${value}`),
    WorkingDir: task.workDir,
    Labels: labels,
    Tty: task.tty !== undefined,
    AttachStdin: task.openStdin,
    OpenStdin: task.openStdin,
    StdinOnce: task.openStdin,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: hostConfig,
  };
  if (task.user !== undefined) spec.User = task.user;
  return spec;
}
