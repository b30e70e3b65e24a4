import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize, timed } from './stats.js';
import { bareEcho, benchDriver, benchNamespace, cliEcho, concurrently, driverEcho, engineClient, engineFloor } from './docker-baselines.js';

/** Sizes of P1. */
export interface P1Options {
  /** The drivetrain namespace of everything the measure makes. @default a random `bench-…` one */
  namespace?: string;
  /** Round trips of each variant in sequence. @default 20 */
  sequential?: number;
  /** Concurrency levels of the growth rows (driver vs bare sequence). @default [1, 10, 50] */
  concurrency?: readonly number[];
  /** Batches per concurrency level. @default 3 */
  batches?: number;
}

/**
 * P1 — Docker round trip of `echo hello`: the driver's runContainer → wait → logs →
 * cleanup against `docker run --rm` (CLI) and the bare dockerode sequence, one after
 * the other, interleaved; then the same at several concurrency levels (ms per task =
 * batch wall time / tasks).
 */
export async function measureP1(options: P1Options = {}): Promise<BenchRow[]> {
  const sequential = options.sequential ?? 20;
  const levels = options.concurrency ?? [1, 10, 50];
  const batches = options.batches ?? 3;
  const namespace = options.namespace ?? benchNamespace('p1');
  const driver = benchDriver(namespace);
  const docker = engineClient();
  try {
    // One warm-up each, so the first sample does not pay for connection set-up.
    await Promise.all([driverEcho(driver), bareEcho(docker, namespace), cliEcho(namespace)]);
    const seq = await interleave(sequential, {
      driver: () => timed(() => driverEcho(driver)),
      bare: () => timed(() => bareEcho(docker, namespace)),
      cli: () => timed(() => cliEcho(namespace)),
      floor: () => engineFloor(docker, namespace),
    });
    const d = summarize(seq.driver);
    const b = summarize(seq.bare);
    const c = summarize(seq.cli);
    const f = summarize(seq.floor);
    const rows: BenchRow[] = [
      {
        id: 'P1',
        scale: `${sequential} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'docker run --rm (CLI)', value: c },
        ratio: ratio(d, c),
        target: targetOf('≤ 0.9×', ratio(d, c), 0.9, 'max'),
      },
      {
        id: 'P1',
        scale: `${sequential} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'bare dockerode sequence', value: b },
        ratio: ratio(d, b),
        target: targetOf('≤ 1.1×', ratio(d, b), 1.1, 'max'),
      },
      {
        id: 'P1',
        scale: `${sequential} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'floor: engine create → start → wait', value: f },
        ratio: ratio(d, f),
        note: 'the floor is what the engine itself costs to run the task; logs and removal come on top for every client',
      },
    ];
    for (const level of levels) {
      const perTask = await interleave(batches, {
        driver: async () => (await concurrently(level, () => driverEcho(driver))) / level,
        bare: async () => (await concurrently(level, () => bareEcho(docker, namespace))) / level,
      });
      const dl = summarize(perTask.driver);
      const bl = summarize(perTask.bare);
      rows.push({
        id: 'P1',
        scale: `${level} at once`,
        unit: 'ms/task',
        subject: { label: 'driver round trip', value: dl },
        baseline: { label: 'bare dockerode sequence', value: bl },
        ratio: ratio(dl, bl),
        target: targetOf('≤ 1.1×', ratio(dl, bl), 1.1, 'max'),
        note: level === levels[0] ? 'growth rows: wall time of a batch of N concurrent round trips divided by N' : undefined,
      });
    }
    return rows;
  } finally {
    await driver.close();
  }
}
