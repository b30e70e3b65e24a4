import type Dockerode from 'dockerode';
import { ImagePullError } from '../../src/errors.js';
import { anySignal, raceAbort } from '../../src/abort.js';
import { isAbortError } from '../../src/abort.js';
import { since, summarise, type DriverEvents } from '../../src/kit/events.js';
import { engineMessage, normaliseError, statusCodeOf } from './engine-errors.js';
import type { PullPolicy } from './options.js';
import { toEngineAuth, type PullCredentials } from './pull-auth.js';

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
    private readonly events: DriverEvents,
    private readonly credentials: PullCredentials,
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

  /**
   * The image's user when the engine has the image, else `undefined`; never pulls (a missing
   * image is the create's to handle). Lets a start ask beside its create rather than before it.
   */
  async userIfPresent(image: string, signal?: AbortSignal): Promise<string | undefined> {
    const known = this.users.get(image);
    if (known !== undefined) return raceAbort(known, signal);
    try {
      const info = (await this.docker().getImage(image).inspect({ abortSignal: signal } as never)) as unknown as Dockerode.ImageInspectInfo;
      const user = info.Config?.User ?? '';
      if (!this.users.has(image)) this.users.set(image, Promise.resolve(user));
      return user;
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw normaliseError(error, { kind: 'image', image });
    }
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
    const started = performance.now();
    this.events.emit('imagePullStart', { image });
    try {
      await this.pullWithin(image);
      this.events.emit('imagePullEnd', { image, durationMs: since(started) });
    } catch (error) {
      this.events.emit('imagePullEnd', { image, durationMs: since(started), error: summarise(error) });
      throw error;
    }
  }

  private async pullWithin(image: string): Promise<void> {
    // The shared pull is bounded by the start timeout, not by any one caller's signal.
    const signal = anySignal([], this.pullTimeoutMs);
    const credentials = await this.credentials.forImage(image, signal);
    try {
      const docker = this.docker();
      const authconfig = credentials === undefined ? undefined : toEngineAuth(credentials);
      const stream = (await docker.pull(image, { abortSignal: signal, ...(authconfig === undefined ? {} : { authconfig }) })) as NodeJS.ReadableStream;
      const progress = new PullProgress(image, this.events);
      await new Promise<void>((resolve, reject) => {
        const onFinished = (error: Error | null, events: PullMessage[]): void => {
          const failed = events?.find((e) => e.error !== undefined || e.errorDetail !== undefined);
          if (error !== null) reject(error);
          else if (failed !== undefined) reject(new ImagePullError(image, 'ErrImagePull', withHint(failed.errorDetail?.message ?? failed.error ?? 'pull failed', image, credentials !== undefined)));
          else resolve();
        };
        docker.modem.followProgress(stream, onFinished, (message: PullMessage) => progress.update(message));
      });
    } catch (error) {
      if (error instanceof ImagePullError) throw error;
      if (isAbortError(error) || signal.aborted) {
        throw new ImagePullError(image, 'ErrImagePull', `the pull did not finish within ${this.pullTimeoutMs} ms`, { cause: error });
      }
      const normalised = normaliseError(error, { kind: 'image', image });
      if (normalised instanceof ImagePullError) {
        throw new ImagePullError(image, 'ErrImagePull', withHint(engineMessage(error), image, credentials !== undefined), { cause: error });
      }
      throw normalised;
    }
  }
}

/**
 * The engine's words, and for an anonymous pull where to give credentials: a private
 * repository answers an anonymous pull as if it did not exist, so the engine cannot tell.
 */
function withHint(said: string, image: string, authenticated: boolean): string {
  if (authenticated) return said;
  return `${said} (pulled without credentials: if the repository is private, pass options.registryCredentials or run \`docker login\` for its registry)`;
}

/** One message of the engine's pull stream. */
export interface PullMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Least time between two progress events of one pull, in ms. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Sums a pull's per-layer progress into `drivetrain:image:pull:progress` events, at most one
 * per {@link PROGRESS_INTERVAL_MS}: the engine reports each layer several times a second.
 */
export class PullProgress {
  /** Per layer: bytes downloaded, bytes in all (0 while unknown), complete. */
  private readonly layers = new Map<string, { current: number; total: number; done: boolean }>();
  private lastEmit = 0;

  /** @param now the clock of the throttle, in ms (`performance.now` by default). */
  constructor(
    private readonly image: string,
    private readonly events: DriverEvents,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one message of the engine's pull stream. */
  update(message: PullMessage): void {
    // Messages without a layer ID, or naming the tag ("Pulling from library/busybox"), are not a layer's.
    if (!this.events.active('imagePullProgress') || message.id === undefined || message.status?.startsWith('Pulling from') === true) return;
    const layer = this.layers.get(message.id) ?? { current: 0, total: 0, done: false };
    this.layers.set(message.id, layer);
    const detail = message.progressDetail;
    if (message.status === 'Downloading' && detail?.current !== undefined) {
      layer.current = detail.current;
      if (detail.total !== undefined && detail.total > 0) layer.total = detail.total;
    }
    // "Already exists", "Download complete", "Pull complete": nothing more to fetch for this layer.
    if (message.status !== undefined && /complete|exists/i.test(message.status)) {
      layer.done = true;
      layer.current = Math.max(layer.current, layer.total);
    }
    const now = this.now();
    if (now - this.lastEmit < PROGRESS_INTERVAL_MS) return;
    this.lastEmit = now;
    let currentBytes = 0;
    let totalBytes = 0;
    let layersDone = 0;
    for (const each of this.layers.values()) {
      currentBytes += each.current;
      totalBytes += each.total;
      if (each.done) layersDone += 1;
    }
    this.events.emit('imagePullProgress', { image: this.image, currentBytes, totalBytes, layersDone, layers: this.layers.size });
  }
}
