import { channel, type Channel } from 'node:diagnostics_channel';
import type { Logger } from '../types.js';

/**
 * Lifecycle events, published on Node's `diagnostics_channel` as undici and Node core publish
 * theirs: drivetrain prints nothing; whoever wants to see what a driver does subscribes
 * (`diagnostics_channel.subscribe(CHANNELS.taskStarted, (event) => …)`), or gives the driver a
 * `logger`. Nothing is built or published while nobody subscribes and no logger is set.
 * Payloads never hold environment values (nor the command, which may spell them out).
 * docs/events.md lists every channel with its payload.
 */

/** The channel names, by event. */
export const CHANNELS = {
  /** `runContainer`/`startSandbox` begins to start a task (once per start, however many callers share it). */
  taskStart: 'drivetrain:task:start',
  /** The task has not started yet, and why; published each time the reason or its message changes. */
  taskWaiting: 'drivetrain:task:waiting',
  /** The task's process has started (or its existing container was adopted). */
  taskStarted: 'drivetrain:task:started',
  /** The start failed; the error is what the callers get. */
  taskError: 'drivetrain:task:error',
  /** A container handle saw its task end (`wait()` or `status()`), once per handle. */
  taskExited: 'drivetrain:task:exited',
  /** `cleanup()` of a container or sandbox removed it. */
  taskCleanedUp: 'drivetrain:task:cleaned-up',
  /** The driver begins to pull an image (once per pull, however many tasks wait for it). */
  imagePullStart: 'drivetrain:image:pull:start',
  /** Bytes of an image pull so far; at most about five times a second. */
  imagePullProgress: 'drivetrain:image:pull:progress',
  /** A pull ended, with `error` when it failed. */
  imagePullEnd: 'drivetrain:image:pull:end',
  /** One request to the engine (Docker engine API, Kubernetes API server) ended: its timing. */
  engineRequest: 'drivetrain:engine:request',
  /** A request failed transiently and is tried again, with the reason. */
  engineRetry: 'drivetrain:engine:retry',
  /** `close()` begins to remove everything of the namespace. */
  driverClose: 'drivetrain:driver:close',
  /** A `close()` sweep ended, with `error` when it failed or ran out of time. */
  driverClosed: 'drivetrain:driver:closed',
} as const;

/** An event's key in {@link CHANNELS}. */
export type EventName = keyof typeof CHANNELS;

/** What every payload holds. */
export interface EventBase {
  /** The driver's name: `docker`, `native`, `k8s`, … */
  driver: string;
  /** The drivetrain namespace of the driver. */
  namespace: string;
}

/** What a task is to its driver. */
export type TaskRole = 'task' | 'sandbox';

/** An error as events carry it: its class name, code and message (never the error object, which may hold more). */
export interface ErrorSummary {
  name: string;
  code?: string;
  message: string;
}

/** The payload of each event, by name. */
export interface EventPayloads {
  taskStart: EventBase & { taskId: string; role: TaskRole; image: string };
  taskWaiting: EventBase & { taskId: string; role: TaskRole; reason: string; message?: string };
  taskStarted: EventBase & { taskId: string; role: TaskRole; /** The container existed already (another caller or instance made it). */ adopted: boolean; durationMs: number };
  taskError: EventBase & { taskId: string; role: TaskRole; durationMs: number; error: ErrorSummary };
  taskExited: EventBase & { taskId: string; exitCode: number | null; reason?: string; message?: string };
  taskCleanedUp: EventBase & { taskId: string; role: TaskRole; durationMs: number };
  imagePullStart: EventBase & { image: string };
  imagePullProgress: EventBase & {
    image: string;
    /** Bytes downloaded so far, over every layer. */
    currentBytes: number;
    /** Bytes to download, over the layers whose size is known yet. */
    totalBytes: number;
    /** Layers complete, and layers known. */
    layersDone: number;
    layers: number;
  };
  imagePullEnd: EventBase & { image: string; durationMs: number; error?: ErrorSummary };
  engineRequest: EventBase & {
    /** What was asked, e.g. `POST /containers/create` or `create pod "dt-ci--build"`. */
    operation: string;
    durationMs: number;
    /** The HTTP status, when the engine answered with one. */
    statusCode?: number;
    /** Why it failed, when it did: an HTTP status (`HTTP 503`) or a socket error code (`ECONNREFUSED`). */
    error?: string;
  };
  engineRetry: EventBase & {
    operation: string;
    /** The attempt that failed, 1 for the first. */
    attempt: number;
    /** Why it is tried again: `HTTP 429`, `HTTP 503`, `ECONNRESET`, … */
    reason: string;
    /** Attempts left after this one. */
    retriesLeft: number;
    /** The back-off before the next attempt, in ms (a 429's `Retry-After` may add to it). */
    delayMs: number;
  };
  driverClose: EventBase;
  driverClosed: EventBase & { durationMs: number; error?: ErrorSummary };
}

/** The level each event is logged at. */
const LEVELS: Record<EventName, keyof Logger> = {
  taskStart: 'debug',
  taskWaiting: 'info',
  taskStarted: 'info',
  taskError: 'warn',
  taskExited: 'info',
  taskCleanedUp: 'debug',
  imagePullStart: 'info',
  imagePullProgress: 'debug',
  imagePullEnd: 'info',
  engineRequest: 'debug',
  engineRetry: 'warn',
  driverClose: 'debug',
  driverClosed: 'info',
};

const channels = Object.fromEntries(Object.entries(CHANNELS).map(([name, id]) => [name, channel(id)])) as Record<EventName, Channel>;

/** A payload without what the publisher adds itself. */
export type EventFields<N extends EventName> = Omit<EventPayloads[N], keyof EventBase>;

/** One driver's publisher: adds its name and namespace to every payload, and logs when given a logger. */
export class DriverEvents {
  constructor(
    readonly driver: string,
    readonly namespace: string,
    private readonly logger?: Logger,
  ) {}

  /** Whether `name` reaches anyone: lets a publisher skip work (timing, summing) nobody would see. */
  active(name: EventName): boolean {
    return this.logger !== undefined || channels[name].hasSubscribers;
  }

  /** Publishes `fields` on the event's channel and logs them, when anyone listens. */
  emit<N extends EventName>(name: N, fields: EventFields<N>): void {
    const target = channels[name];
    if (!target.hasSubscribers && this.logger === undefined) return;
    const payload = { driver: this.driver, namespace: this.namespace, ...fields } as EventPayloads[N];
    if (target.hasSubscribers) target.publish(payload);
    if (this.logger !== undefined) {
      try {
        this.logger[LEVELS[name]](payload, describeEvent(name, payload));
      } catch {
        // A failing logger must not fail the operation it reports on.
      }
    }
  }
}

/** An error as events carry it. */
export function summarise(error: unknown): ErrorSummary {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

/** Milliseconds since `start` (a `performance.now()` reading), rounded to 0.1 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** One line saying what an event means, for logs and the CLI's `--verbose`. */
export function describeEvent<N extends EventName>(name: N, event: EventPayloads[N]): string {
  const e = event as EventPayloads[EventName] & Record<string, unknown>;
  const what = (e.role as TaskRole | undefined) === 'sandbox' ? 'sandbox' : 'task';
  const task = `${what} ${JSON.stringify(e.taskId)}`;
  const failure = (error: ErrorSummary | undefined): string => (error === undefined ? '' : `: ${error.name}: ${error.message}`);
  switch (name) {
    case 'taskStart':
      return `${task} starting (image ${String(e.image)})`;
    case 'taskWaiting':
      return `${task} waiting to start: ${String(e.reason)}${e.message === undefined || e.message === '' ? '' : `: ${String(e.message)}`}`;
    case 'taskStarted':
      return `${task} started in ${ms(e.durationMs)}${e.adopted === true ? ' (its existing container adopted)' : ''}`;
    case 'taskError':
      return `${task} did not start (${ms(e.durationMs)})${failure(e.error as ErrorSummary)}`;
    case 'taskExited': {
      const detail = [e.reason, e.message].filter((part) => part !== undefined && part !== '').join(': ');
      const code = e.exitCode === null ? 'without an exit code' : `with exit code ${String(e.exitCode)}`;
      return `task ${JSON.stringify(e.taskId)} ended ${code}${detail === '' ? '' : ` (${detail})`}`;
    }
    case 'taskCleanedUp':
      return `${task} removed in ${ms(e.durationMs)}`;
    case 'imagePullStart':
      return `pulling image ${String(e.image)}`;
    case 'imagePullProgress':
      return `pulling image ${String(e.image)}: ${megabytes(e.currentBytes as number)} of ${megabytes(e.totalBytes as number)} MB, ${String(e.layersDone)} of ${String(e.layers)} layers`;
    case 'imagePullEnd':
      return e.error === undefined ? `pulled image ${String(e.image)} in ${ms(e.durationMs)}` : `pull of image ${String(e.image)} failed after ${ms(e.durationMs)}${failure(e.error as ErrorSummary)}`;
    case 'engineRequest':
      return `${String(e.operation)}: ${e.error === undefined ? (e.statusCode === undefined ? 'ok' : String(e.statusCode)) : String(e.error)} in ${ms(e.durationMs)}`;
    case 'engineRetry':
      return `${String(e.operation)}: attempt ${String(e.attempt)} failed (${String(e.reason)}), trying again in ${ms(e.delayMs)} (${String(e.retriesLeft)} left)`;
    case 'driverClose':
      return `closing namespace ${JSON.stringify(e.namespace)}`;
    case 'driverClosed':
      return e.error === undefined ? `closed namespace ${JSON.stringify(e.namespace)} in ${ms(e.durationMs)}` : `close of namespace ${JSON.stringify(e.namespace)} failed after ${ms(e.durationMs)}${failure(e.error as ErrorSummary)}`;
    default:
      return name;
  }
}

function ms(value: unknown): string {
  const n = Number(value);
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
