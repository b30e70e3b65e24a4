import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { DockerContainer } from '../../drivers/docker/index.js';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { summarize } from './stats.js';
import { BENCH_IMAGE, benchDriver, benchNamespace, engineClient, taskId } from './docker-baselines.js';
import { LABELS } from '../../src/labels.js';
import type { Container, Driver } from '../../src/types.js';

/** Sizes of P4 (Docker). */
export interface P4Options {
  /** The drivetrain namespace of everything the measure makes. @default a random `bench-…` one */
  namespace?: string;
  /** Tasks, one after the other. @default 20 */
  tasks?: number;
}

/** The wall-clock time now, in milliseconds with sub-millisecond precision. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The fields of an engine event this file reads. */
export interface DockerEvent {
  id?: string;
  timeNano?: number;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Die events of the engine's containers carrying `label`, by container ID, with the
 * engine's own nanosecond time of the exit. Close it when done.
 */
export class DieEvents {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, (ms: number) => void>();
  private constructor(
    private readonly stream: Readable,
    private readonly keyOf: (event: DockerEvent) => string | undefined,
  ) {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
    stream.on('error', () => {});
  }

  /**
   * Subscribes to the `die` events of containers labelled `label` (`key` or
   * `key=value`), keyed by `keyOf` (by default the engine's container ID).
   */
  static async open(docker: Dockerode, label: string, keyOf: (event: DockerEvent) => string | undefined = (e) => e.id): Promise<DieEvents> {
    const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['die'], label: [label] } })) as unknown as Readable;
    return new DieEvents(stream, keyOf);
  }

  private take(line: string): void {
    if (line.trim() === '') return;
    const event = JSON.parse(line) as DockerEvent;
    const key = this.keyOf(event);
    if (key === undefined || typeof event.timeNano !== 'number' || this.seen.has(key)) return;
    // timeNano exceeds 2^53 ns but ms with ~0.25 µs precision survives the float.
    const ms = event.timeNano / 1e6;
    this.seen.set(key, ms);
    this.waiters.get(key)?.(ms);
  }

  /** The exit time of the container of `key` in wall-clock ms; waits for the event up to `timeoutMs`. */
  exitTime(key: string, timeoutMs = 10_000): Promise<number> {
    const known = this.seen.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no die event for ${key} within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.waiters.set(key, (ms) => {
        clearTimeout(timer);
        resolve(ms);
      });
    });
  }

  close(): void {
    this.stream.destroy();
  }
}

/**
 * P4 (Docker) — the delay between the container's exit (the engine's `die` event
 * time) and the moment `wait()` resolves. The task sleeps briefly so `wait()` is
 * already pending when it exits.
 */
export async function measureP4Docker(options: P4Options = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 20;
  const namespace = options.namespace ?? benchNamespace('p4');
  const driver = benchDriver(namespace);
  const events = await DieEvents.open(engineClient(), `${LABELS.namespace}=${namespace}`);
  const delays = await exitDelays(driver, events, tasks, '0.3', (container) => (container as DockerContainer).engineId);
  return exitDelayRows(`docker, ${tasks} tasks`, delays, "exit moment = the engine's `die` event timeNano (same host clock)");
}

/**
 * Runs `tasks` short sleeps one after the other and returns, for each, the time from its
 * `die` event to `wait()` resolving. Closes `events` and the driver.
 */
export async function exitDelays(driver: Driver, events: DieEvents, tasks: number, sleepSeconds: string, eventKey: (container: Container) => string): Promise<number[]> {
  const delays: number[] = [];
  try {
    for (let i = 0; i < tasks; i++) {
      const container = await driver.runContainer({ id: taskId('exit'), image: BENCH_IMAGE, command: ['sleep', sleepSeconds] });
      try {
        const status = await container.wait({ signal: AbortSignal.timeout(60_000) });
        const resolvedAt = wallClockMs();
        if (status.exitCode !== 0) throw new Error(`sleep ended with ${JSON.stringify(status)}`);
        delays.push(resolvedAt - (await events.exitTime(eventKey(container))));
      } finally {
        await container.cleanup();
      }
    }
  } finally {
    events.close();
    await driver.close();
  }
  return delays;
}

/** P4's row: the exit → `wait()` delays of one engine against the 100 ms median target. */
export function exitDelayRows(scale: string, delays: number[], note: string): BenchRow[] {
  const value = summarize(delays);
  return [{ id: 'P4', scale, unit: 'ms', subject: { label: 'exit → wait() resolves', value }, target: targetOf('≤ 100 ms median', value.median, 100, 'max'), note }];
}
