import { createWriteStream, openSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Driver, Limits, StdinSource } from 'drivetrain';

/** One step of a pipeline: a command in an image, as Orchestra's task describes it. */
export interface Step {
  name: string;
  image: string;
  command: string[];
  env?: Record<string, string>;
  /** Fed to the process's standard input; it sees EOF after the last byte. */
  stdin?: StdinSource;
  /** `uid` or `uid:gid`. */
  user?: string;
  limits?: Limits;
  /** A failing step does not stop the pipeline. */
  allowFailure?: boolean;
}

/** What the engine observes of a step. */
export interface StepResult {
  name: string;
  exitCode: number | null;
  /** Why the exit code is null, or how the process ended (`OOMKilled`, `DeadlineExceeded`, …). */
  reason?: string;
  /** `combined`: the cluster cannot tell stdout from stderr; everything is in `<step>.stdout`. */
  streams: 'separate' | 'combined';
}

/** Where every step mounts the pipeline's shared volume. */
export const WORKSPACE = '/workspace';

/**
 * Orchestra's driver on drivetrain: each step is a task whose ID is `<pipeline>/<step>`, so
 * running a step again — after a crash, from another process — adopts the task that already
 * exists instead of running it twice. Steps share the volume `workspace`; each step's stdout
 * and stderr are written apart to `<logDir>/<step>.stdout` and `.stderr` as they come.
 */
export class OrchestraRunner {
  private readonly driver: Driver;
  private readonly pipeline: string;
  private readonly logDir: string;

  constructor(driver: Driver, pipeline: string, logDir: string) {
    this.driver = driver;
    this.pipeline = pipeline;
    this.logDir = logDir;
  }

  /** Runs the steps in order; stops at the first failure that is not allowed. */
  async runPipeline(steps: readonly Step[], signal?: AbortSignal): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const step of steps) {
      const result = await this.run(step, signal);
      results.push(result);
      if (result.exitCode !== 0 && step.allowFailure !== true) break;
    }
    return results;
  }

  /** Runs one step (or adopts it when its task exists) and follows its logs to the end. */
  async run(step: Step, signal?: AbortSignal): Promise<StepResult> {
    // Opened before the task starts: a log directory that cannot be written fails here, with nothing started.
    const stdout = createWriteStream('', { fd: openSync(join(this.logDir, `${step.name}.stdout`), 'w') });
    const stderr = createWriteStream('', { fd: openSync(join(this.logDir, `${step.name}.stderr`), 'w') });
    try {
      const container = await this.driver.runContainer(
        {
          id: `${this.pipeline}/${step.name}`,
          image: step.image,
          command: step.command,
          env: step.env,
          stdin: step.stdin,
          user: step.user,
          limits: step.limits,
          mounts: [{ volume: 'workspace', path: WORKSPACE }],
          labels: { 'orchestra.pipeline': this.pipeline },
        },
        { signal },
      );
      const [status, logs] = await Promise.all([container.wait({ signal }), container.logs({ stdout, stderr, follow: true, signal })]);
      return { name: step.name, exitCode: status.exitCode, reason: status.reason, streams: logs.streams };
    } finally {
      stdout.end();
      stderr.end();
      await Promise.all([finished(stdout), finished(stderr)]);
    }
  }
}
