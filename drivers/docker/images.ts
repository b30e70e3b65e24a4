import type Dockerode from 'dockerode';
import { ImagePullError } from '../../src/errors.js';
import { anySignal, raceAbort } from '../../src/abort.js';
import { isAbortError } from '../../src/abort.js';
import { engineMessage, normaliseError, statusCodeOf } from './engine-errors.js';
import type { PullPolicy } from './options.js';

/**
 * Applies the pull policy. The engine is asked about an image only when it matters:
 * with `IfNotPresent` and `Never` a task's container is created straight away and
 * only a "no such image" answer leads here; `Always` pulls before every run.
 * Concurrent pulls of one image share a single request.
 */
export class ImageResolver {
  private readonly pulls = new Map<string, Promise<void>>();
  /** The image's configured user, per reference: inspected once per image per driver (again after a pull). */
  private readonly users = new Map<string, Promise<string>>();

  constructor(
    private readonly docker: () => Dockerode,
    readonly policy: PullPolicy,
    private readonly pullTimeoutMs: number,
  ) {}

  /** Whether the engine has the image (one inspect). */
  async exists(image: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.docker().getImage(image).inspect({ abortSignal: signal } as never);
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 404) return false;
      throw normaliseError(error, { kind: 'image', image });
    }
  }

  /**
   * The user the image runs as (`''` when it sets none, i.e. root). A missing image is
   * handled by the pull policy first. One inspect per image per driver instance.
   */
  userOf(image: string, signal?: AbortSignal): Promise<string> {
    let pending = this.users.get(image);
    if (pending === undefined) {
      pending = this.inspectUser(image);
      this.users.set(image, pending);
      pending.catch(() => this.users.delete(image));
    }
    return raceAbort(pending, signal);
  }

  private async inspectUser(image: string): Promise<string> {
    const inspect = async (): Promise<string | undefined> => {
      try {
        const info = await this.docker().getImage(image).inspect();
        return info.Config?.User ?? '';
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        throw normaliseError(error, { kind: 'image', image });
      }
    };
    const user = await inspect();
    if (user !== undefined) return user;
    await this.provideMissing(image);
    const pulled = await inspect();
    if (pulled === undefined) throw new ImagePullError(image, 'NotFound', 'the image is still missing after a successful pull');
    return pulled;
  }

  /**
   * Called when the engine reported the image missing: pulls it (`IfNotPresent`,
   * `Always`) or fails with `ErrImageNeverPull` (`Never`).
   */
  async provideMissing(image: string, signal?: AbortSignal): Promise<void> {
    if (this.policy === 'Never') {
      throw new ImagePullError(image, 'ErrImageNeverPull', 'the image is not present and the pull policy is Never');
    }
    await this.pull(image, signal);
  }

  /** Pulls `image`, sharing a pull already in flight. Fails with `ImagePullError` (reason `ErrImagePull`). */
  pull(image: string, signal?: AbortSignal): Promise<void> {
    let pending = this.pulls.get(image);
    if (pending === undefined) {
      this.users.delete(image);
      pending = this.pullOnce(image).finally(() => this.pulls.delete(image));
      this.pulls.set(image, pending);
    }
    return raceAbort(pending, signal);
  }

  private async pullOnce(image: string): Promise<void> {
    // The shared pull is bounded by the start timeout, not by any one caller's signal.
    const signal = anySignal([], this.pullTimeoutMs);
    try {
      const docker = this.docker();
      const stream = (await docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (error: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          const failed = events?.find((e) => e.error !== undefined || e.errorDetail !== undefined);
          if (error !== null) reject(error);
          else if (failed !== undefined) reject(new ImagePullError(image, 'ErrImagePull', failed.errorDetail?.message ?? failed.error ?? 'pull failed'));
          else resolve();
        });
      });
    } catch (error) {
      if (error instanceof ImagePullError) throw error;
      if (isAbortError(error) || signal.aborted) {
        throw new ImagePullError(image, 'ErrImagePull', `the pull did not finish within ${this.pullTimeoutMs} ms`, { cause: error });
      }
      const normalised = normaliseError(error, { kind: 'image', image });
      if (normalised instanceof ImagePullError) {
        throw new ImagePullError(image, 'ErrImagePull', engineMessage(error), { cause: error });
      }
      throw normalised;
    }
  }
}
