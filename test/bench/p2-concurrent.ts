import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize } from './stats.js';
import { benchDriver, benchNamespace, cliEcho, concurrently, driverEcho } from './docker-baselines.js';

/** Sizes of P2. */
export interface P2Options {
  /** The drivetrain namespace of everything the measure makes. @default a random `bench-…` one */
  namespace?: string;
  /** Tasks started at once. @default 50 */
  tasks?: number;
  /** Batches of each variant, interleaved. @default 3 */
  batches?: number;
}

/**
 * P2 — `tasks` echo tasks at once on one Docker driver, until every log is read,
 * against as many `docker run --rm` CLI processes at once. Values are the wall time
 * of the whole batch.
 */
export async function measureP2(options: P2Options = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 50;
  const batches = options.batches ?? 3;
  const namespace = options.namespace ?? benchNamespace('p2');
  const driver = benchDriver(namespace);
  try {
    const samples = await interleave(batches, {
      driver: () => concurrently(tasks, () => driverEcho(driver)),
      cli: () => concurrently(tasks, () => cliEcho(namespace)),
    });
    const d = summarize(samples.driver);
    const c = summarize(samples.cli);
    return [
      {
        id: 'P2',
        scale: `${tasks} at once`,
        unit: 'ms',
        subject: { label: 'one driver, all logs read', value: d },
        baseline: { label: `${tasks} × docker run --rm (CLI)`, value: c },
        ratio: ratio(d, c),
        target: targetOf('≤ 0.8×', ratio(d, c), 0.8, 'max'),
      },
    ];
  } finally {
    await driver.close();
  }
}
