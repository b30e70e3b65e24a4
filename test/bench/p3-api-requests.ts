import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { summarize } from './stats.js';
import { benchNamespace, concurrently } from './docker-baselines.js';
import { benchK8sDriver, driverTask, pollingTask, requestCounts, type BenchCluster } from './k8s-bench.js';

/** One P3 configuration: tasks of `seconds` length, `tasks` of them at once. */
export interface P3Case {
  seconds: number;
  tasks: number;
  /** Also measure the polling baseline. @default true */
  baseline?: boolean;
  /** Batches of `tasks` run one after the other. @default 1 */
  rounds?: number;
}

/** Sizes of P3. */
export interface P3Options {
  /** @default 1 s × 1, 1 s × 1 ten times in sequence, 1 s × 10, 1 s × 50, 10 s × 10 */
  cases?: readonly P3Case[];
  namespace?: string;
}

const DEFAULT_CASES: readonly P3Case[] = [
  { seconds: 1, tasks: 1 },
  { seconds: 1, tasks: 1, rounds: 10, baseline: false },
  { seconds: 1, tasks: 10 },
  { seconds: 10, tasks: 10 },
  { seconds: 1, tasks: 50, baseline: false },
];

/**
 * P3 — Kubernetes API requests per task, counted by the local API server: a fresh
 * driver runs `tasks` tasks at once (run → wait → logs → cleanup); the count runs from
 * the driver's creation to the last cleanup (its one-off list and watch included,
 * spread over the tasks; `close` is counted apart). The baseline does the same work
 * polling the pod every 100 ms. A lone task pays the informer's WATCH alone (its create
 * starts it, with no LIST) and, where the cluster serves split log streams, the 422 of the
 * probe its first log read is; ten of them in sequence show what a task costs one at a time.
 */
export async function measureP3(bench: BenchCluster, options: P3Options = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of options.cases ?? DEFAULT_CASES) {
    const namespace = options.namespace ?? benchNamespace('p3');
    const command = ['sleep', String(c.seconds)];
    bench.cluster.metrics.reset();
    const driver = await benchK8sDriver(bench, namespace);
    let driverCount: ReturnType<typeof requestCounts>;
    let closeCount: ReturnType<typeof requestCounts>;
    const rounds = c.rounds ?? 1;
    try {
      for (let round = 0; round < rounds; round++) await concurrently(c.tasks, () => driverTask(driver, command));
      driverCount = requestCounts(bench);
    } finally {
      bench.cluster.metrics.reset();
      await driver.close();
      closeCount = requestCounts(bench);
    }
    let baseline: ReturnType<typeof requestCounts> | undefined;
    if (c.baseline ?? true) {
      bench.cluster.metrics.reset();
      await concurrently(c.tasks, () => pollingTask(bench, namespace, command));
      baseline = requestCounts(bench);
    }
    const perTask = summarize([driverCount.total / (c.tasks * rounds)]);
    const basePerTask = baseline === undefined ? undefined : summarize([baseline.total / c.tasks]);
    rows.push({
      id: 'P3',
      scale: `${c.seconds} s task, ${c.tasks} at once${rounds > 1 ? `, ${rounds} in sequence` : ''}`,
      unit: 'req/task',
      subject: { label: 'driver', value: perTask },
      ...(basePerTask === undefined ? {} : { baseline: { label: 'poll status every 100 ms', value: basePerTask }, ratio: perTask.median / basePerTask.median }),
      target: targetOf('≤ 4', perTask.median, 4, 'max'),
      note: `driver: ${driverCount.breakdown}; close: ${closeCount.breakdown}${baseline === undefined ? '' : `; baseline: ${baseline.breakdown}`}`,
    });
  }
  return rows;
}
