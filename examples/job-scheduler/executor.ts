import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { toDnsLabel, type Task } from 'drivetrain';
import { createK8sDriver, type K8sDriver, type K8sTaskObject } from 'drivetrain/k8s';

/** One attempt at a task, as the control plane records it. */
export interface Attempt {
  taskId: string;
  attemptId: string;
  target: { name: string; repoUrl: string; branch: string };
  /** What the worker runs for this task (a shell script). */
  script: string;
}

/** The executor's configuration. */
export interface ExecutorConfig {
  /** The scheduler's drivetrain namespace: every Job it makes is labelled with it. */
  namespace: string;
  /** Where the Jobs run. @default the kubeconfig context's namespace */
  kubernetesNamespace?: string;
  /** The worker image. */
  image: string;
  controlPlaneUrl: string;
  /** The Secret holding `control-plane-token` and `github-token`; its values never pass through the scheduler. */
  secret: string;
  /** Each attempt's logs are stored under `<artifactDir>/<attempt>/`. */
  artifactDir: string;
}

/** What an attempt came to, and the events the scheduler records for it. */
export interface AttemptResult {
  attemptId: string;
  jobName: string;
  outcome: 'attempt.succeeded' | 'attempt.failed';
  exitCode: number | null;
  reason?: string;
  events: string[];
}

/** The worker: reports what it was given (the tokens by digest only), then runs the task's script. */
const WORKER = [
  'echo "attempt.started $ATTEMPT_ID (task $TASK_ID, target $TARGET_NAME)"',
  'echo "clone $TARGET_REPO_URL at $TARGET_BRANCH"',
  'echo "control plane $CONTROL_PLANE_URL, token sha256:$(printf %s "$CONTROL_PLANE_TOKEN" | sha256sum | cut -c1-12), github token ${#GITHUB_TOKEN} bytes"',
  // A fresh value on every run: a Job run twice would show two.
  'echo "run $(cat /proc/sys/kernel/random/uuid)"',
  'sh -c "$TASK_SCRIPT"',
].join('\n');

/**
 * The task of an attempt's Job: a pure function of the attempt, so the same attempt always
 * gives the same Job — same name (`dt-<namespace>--<attempt id>`), labels and environment —
 * and submitting it again adopts the Job that exists instead of starting another.
 */
export function attemptTask(attempt: Attempt, config: Pick<ExecutorConfig, 'image' | 'controlPlaneUrl'>): Task {
  return {
    id: attempt.attemptId,
    image: config.image,
    command: ['sh', '-c', WORKER],
    env: {
      TARGET_NAME: attempt.target.name,
      TARGET_REPO_URL: attempt.target.repoUrl,
      TARGET_BRANCH: attempt.target.branch,
      TASK_ID: attempt.taskId,
      ATTEMPT_ID: attempt.attemptId,
      CONTROL_PLANE_URL: config.controlPlaneUrl,
      TASK_SCRIPT: attempt.script,
    },
    labels: { 'leviathan.dev/task-id': toDnsLabel(attempt.taskId), 'leviathan.dev/target': toDnsLabel(attempt.target.name) },
    limits: { memoryBytes: 64 * 2 ** 20 },
    timeoutMs: 10 * 60_000,
  };
}

/** Runs attempts as Kubernetes Jobs and keeps each one's logs as an artifact. */
export class K8sJobExecutor {
  private readonly config: ExecutorConfig;
  private readonly driver: K8sDriver;

  constructor(config: ExecutorConfig) {
    this.config = config;
    this.driver = createK8sDriver({
      namespace: config.namespace,
      kubernetesNamespace: config.kubernetesNamespace,
      mode: 'job',
      // Kubernetes removes a finished Job after a day should the scheduler not come back to it.
      ttlSecondsAfterFinished: 86_400,
      // Injected by the kubelet from the Secret (valueFrom.secretKeyRef): the Job spec holds only the reference.
      secretEnv: {
        CONTROL_PLANE_TOKEN: { secret: config.secret, key: 'control-plane-token' },
        GITHUB_TOKEN: { secret: config.secret, key: 'github-token' },
      },
    });
  }

  /**
   * The Job `submit` creates for the attempt, rendered by the driver without contacting the
   * cluster: what a unit test of the Job spec checks, and what `--dry-run` prints.
   */
  jobSpec(attempt: Attempt): K8sTaskObject {
    return this.driver.renderTask(attemptTask(attempt, this.config)).object;
  }

  /** Submits the attempt's Job, or adopts it when it exists (submitted before a restart); resolves once it started. */
  submit(attempt: Attempt, signal?: AbortSignal) {
    return this.driver.runContainer(attemptTask(attempt, this.config), { signal });
  }

  /** Submits the attempt's Job (or adopts it), waits for it, stores its logs, removes it. */
  async execute(attempt: Attempt, signal?: AbortSignal): Promise<AttemptResult> {
    // The Job's name as the driver makes it, for `kubectl describe job`.
    const name = this.driver.taskObjectName(attempt.attemptId);
    const events = [`attempt.created ${attempt.attemptId} (task ${attempt.taskId})`];
    const job = await this.submit(attempt, signal);
    events.push(`job.submitted ${name}`);
    const status = await job.wait({ signal });
    const dir = join(this.config.artifactDir, attempt.attemptId);
    mkdirSync(dir, { recursive: true });
    const stdout = createWriteStream(join(dir, 'stdout'));
    const stderr = createWriteStream(join(dir, 'stderr'));
    try {
      await job.logs({ stdout, stderr, signal });
    } finally {
      stdout.end();
      stderr.end();
      await Promise.all([finished(stdout), finished(stderr)]);
    }
    events.push(`logs.collected ${join(dir, 'stdout')}, ${join(dir, 'stderr')}`);
    await job.cleanup({ signal });
    const outcome = status.exitCode === 0 ? 'attempt.succeeded' : 'attempt.failed';
    events.push(`${outcome} exit ${status.exitCode}${status.exitCode === 0 ? '' : ` (${status.reason})`}`);
    return { attemptId: attempt.attemptId, jobName: name, outcome, exitCode: status.exitCode, reason: status.reason, events };
  }

  /** Removes every Job this scheduler's namespace made, also those of an earlier run. */
  close(signal?: AbortSignal): Promise<void> {
    return this.driver.close({ signal });
  }
}
