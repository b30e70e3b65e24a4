import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { raceAbort } from '../../src/abort.js';

/** A container event as waiters need it: the container's full ID and the action (`start`, `die`, `destroy`). */
export interface ContainerEvent {
  id: string;
  action: string;
}

/** Told each container event, or the Error that ended the stream (the waiter then decides what to do). */
export type ContainerEventListener = (event: ContainerEvent | Error) => void;

/** The actions a waiter may need: a start, an exit, a removal. */
const ACTIONS = ['start', 'die', 'destroy'];

/**
 * One container event stream per Docker engine for the whole process, shared by every
 * driver on that engine (and every waiter of each). It is opened with the first subscriber
 * and closed with the last, under a lifetime of its own: a subscriber's abort or its
 * driver's close only unsubscribes it. A stream that ends or fails is told to every
 * subscriber as an Error and dropped; the next subscriber opens a fresh one.
 */
class EngineEventStream {
  private readonly listeners = new Set<ContainerEventListener>();
  private stream: Readable | undefined;
  private opening: Promise<Readable> | undefined;
  private lifetime = new AbortController();

  constructor(private readonly onIdle: () => void) {}

  get subscribers(): number {
    return this.listeners.size;
  }

  /**
   * Adds `listener` and resolves, with the unsubscribe function, once the stream is open
   * (every event from then on reaches it). `open` opens the stream if none is (the caller's
   * engine call, with its retries); `signal` bounds only this subscriber's wait.
   */
  async subscribe(listener: ContainerEventListener, open: (signal: AbortSignal) => Promise<Readable>, signal: AbortSignal): Promise<() => void> {
    this.listeners.add(listener);
    const unsubscribe = (): void => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.close();
    };
    try {
      if (this.stream === undefined) {
        this.opening ??= this.open(open);
        await raceAbort(this.opening, signal);
      }
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  private async open(open: (signal: AbortSignal) => Promise<Readable>): Promise<Readable> {
    const lifetime = this.lifetime;
    try {
      const stream = await open(lifetime.signal);
      if (lifetime.signal.aborted) {
        stream.destroy();
        return stream;
      }
      this.stream = stream;
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const event = parseEvent(line);
          if (event !== undefined) this.emit(event);
        }
      });
      const ended = (error?: Error): void => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.emit(error ?? new Error('the engine event stream ended'));
      };
      stream.on('error', ended);
      stream.on('end', () => ended());
      stream.on('close', () => ended());
      return stream;
    } finally {
      this.opening = undefined;
    }
  }

  private close(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    const stream = this.stream;
    this.stream = undefined;
    stream?.destroy();
    this.onIdle();
  }

  private emit(event: ContainerEvent | Error): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others from hearing the event.
      }
    }
  }
}

/** The process's event streams, by engine address. */
const streams = new Map<string, EngineEventStream>();

/** Where a client's engine is (socket path, or host, port and protocol): drivers on one engine share a stream. */
function engineAddress(docker: Dockerode): string {
  const modem = docker.modem as unknown as { socketPath?: unknown; host?: unknown; port?: unknown; protocol?: unknown };
  return JSON.stringify([modem.socketPath ?? null, modem.host ?? null, modem.port ?? null, modem.protocol ?? null]);
}

/** How many engine event streams this process has subscribers on now, and how many subscribers in all. */
export function engineEventStreams(): { streams: number; subscribers: number } {
  let subscribers = 0;
  for (const stream of streams.values()) subscribers += stream.subscribers;
  return { streams: streams.size, subscribers };
}

/**
 * Subscribes `listener` to the container events of `docker`'s engine on the process's
 * shared stream (opened with `docker` if it is not open). Resolves with the unsubscribe
 * function once the stream is open.
 */
export function subscribeContainerEvents(docker: Dockerode, listener: ContainerEventListener, open: (signal: AbortSignal) => Promise<Readable>, signal: AbortSignal): Promise<() => void> {
  const address = engineAddress(docker);
  let shared = streams.get(address);
  if (shared === undefined) {
    const created: EngineEventStream = new EngineEventStream(() => {
      if (streams.get(address) === created) streams.delete(address);
    });
    streams.set(address, (shared = created));
  }
  return shared.subscribe(listener, open, signal);
}

/** The filters of the shared stream: container starts, exits and removals, of every container. */
export const CONTAINER_EVENT_FILTERS = { type: ['container'], event: ACTIONS };

/** One event line, when it is a container event with an ID and an action. */
function parseEvent(line: string): ContainerEvent | undefined {
  try {
    const event = JSON.parse(line) as { Action?: unknown; Actor?: { ID?: unknown }; id?: unknown };
    const id = event.Actor?.ID ?? event.id;
    return typeof event.Action === 'string' && typeof id === 'string' ? { id, action: event.Action } : undefined;
  } catch {
    return undefined;
  }
}
