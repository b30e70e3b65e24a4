import { ContainerNotFoundError } from '../../src/errors.js';
import type { Container, ContainerStatus, LogOptions, LogResult, OperationOptions } from '../../src/types.js';
import { quickEngineCall, type DockerContext } from './context.js';
import { sawOomEvent } from './events.js';
import { deliverLogs } from './logs.js';
import { removeContainer } from './removal.js';
import { DELETED_STATUS, statusFromInspect } from './status.js';
import { waitUntilStopped } from './wait-exit.js';
import { removeServices, serviceEngineId, stopServices } from './services.js';

/** A task's Docker container. */
export class DockerContainer implements Container {
  constructor(
    private readonly ctx: DockerContext,
    /** The task ID. */
    readonly id: string,
    /** The engine's container ID. */
    readonly engineId: string,
    /** The container runs on a terminal: its log is the terminal's stream. */
    private readonly tty = false,
    /** The task has services (its network is a holder's): only then are they looked for on wait and cleanup. */
    private readonly hasServices = false,
  ) {}

  private get owner() {
    return { kind: 'task', taskId: this.id } as const;
  }

  private get subject() {
    return { kind: 'container', taskId: this.id, namespace: this.ctx.namespace } as const;
  }

  async status(options: OperationOptions = {}): Promise<ContainerStatus> {
    return this.ctx.life.exited(this, this.id, await this.inspectStatus(options));
  }

  private async inspectStatus(options: OperationOptions): Promise<ContainerStatus> {
    this.ctx.assertOpen();
    try {
      const info = await quickEngineCall(this.ctx, this.subject, (signal) => this.ctx.docker().getContainer(this.engineId).inspect({ abortSignal: signal }), { signal: options.signal });
      const status = statusFromInspect(info, this.ctx.deadlines.hasFired(this.engineId));
      if (status.exitCode === 137 && status.reason === 'Error' && (info.HostConfig.Memory ?? 0) > 0) {
        // A SIGKILL under a memory limit: the OOM flag may lag behind the exit.
        if (await sawOomEvent(this.ctx, this.engineId, info.State.StartedAt, info.State.FinishedAt, options.signal)) {
          return statusFromInspect({ ...info, State: { ...info.State, OOMKilled: true } }, false);
        }
      }
      return status;
    } catch (error) {
      if (error instanceof ContainerNotFoundError) return { ...DELETED_STATUS };
      throw error;
    }
  }

  /**
   * Blocks on the engine's wait API, then reads the final state once. A slow liveness
   * check (every few seconds) covers a long poll whose connection an engine restart
   * dropped silently, so the true exit code is still reported.
   */
  async wait(options: OperationOptions = {}): Promise<ContainerStatus> {
    this.ctx.assertOpen();
    try {
      await waitUntilStopped(this.ctx, this.engineId, this.subject, options.signal);
    } catch (error) {
      if (error instanceof ContainerNotFoundError) return this.ctx.life.exited(this, this.id, { ...DELETED_STATUS });
      throw error;
    }
    // The task has ended: its services stop with it (they are removed with it by cleanup).
    if (this.hasServices) await stopServices(this.ctx, this.owner, options.signal);
    return this.status(options);
  }

  async logs(options: LogOptions = {}): Promise<LogResult> {
    this.ctx.assertOpen();
    const engineId = options.service === undefined ? this.engineId : await serviceEngineId(this.ctx, this.owner, options.service, options.signal);
    // A service's log is its own: never a terminal's.
    const tty = options.service === undefined && this.tty;
    await deliverLogs(this.ctx, engineId, this.subject, options, tty);
    return { streams: tty ? 'combined' : 'separate' };
  }

  /** Kills and removes the container and its services; already gone is success. Volumes are kept. */
  async cleanup(options: OperationOptions = {}): Promise<void> {
    this.ctx.deadlines.disarm(this.engineId);
    await this.ctx.life.cleanup(this.id, 'task', async () => {
      await removeContainer(this.ctx, this.engineId, options.signal);
      if (this.hasServices) await removeServices(this.ctx, this.owner, options.signal);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
