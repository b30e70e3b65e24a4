import { sharedPodWatchers } from '../../drivers/k8s/shared-pod-watch.js';
import type { Driver } from '../../src/types.js';
import { benchNamespace } from './docker-baselines.js';
import { benchK8sDriver, driverTask, requestCounts, type BenchCluster } from './k8s-bench.js';
import { targetOf, type BenchRow } from './row.js';
import { summarize } from './stats.js';

/** Sizes of P9. */
export interface P9Options {
  /** Drivers in the process, each its own drivetrain namespace in one Kubernetes namespace. @default 100 */
  drivers?: number;
  /** Tasks each driver runs. @default 3 */
  tasksPerDriver?: number;
  /** Tasks in flight at once, in both configurations. @default 50 */
  inFlight?: number;
}

/** Runs `fn(0 … count-1)` with at most `inFlight` running at once. */
export async function inPool(count: number, inFlight: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, inFlight) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/**
 * P9 — many drivers in one process: `drivers` k8s drivers (each its own drivetrain
 * namespace, all in one Kubernetes namespace) run `tasksPerDriver` tasks each, against
 * one driver running the same number of tasks, both `inFlight` at once. Counted on the
 * local API server from the first driver's creation to the last task's cleanup (the
 * drivers' `close` counted apart, as in P3): API requests per task, and the WATCH
 * requests of pods, which must be one for the whole process.
 */
export async function measureP9(bench: BenchCluster, options: P9Options = {}): Promise<BenchRow[]> {
  const driverCount = options.drivers ?? 100;
  const perDriver = options.tasksPerDriver ?? 3;
  const inFlight = options.inFlight ?? 50;
  const total = driverCount * perDriver;
  const command = ['true'];

  bench.cluster.metrics.reset();
  const one = await benchK8sDriver(bench, benchNamespace('p9one'));
  let oneCount: ReturnType<typeof requestCounts>;
  try {
    await inPool(total, inFlight, () => driverTask(one, command));
    oneCount = requestCounts(bench);
  } finally {
    await one.close();
  }

  bench.cluster.metrics.reset();
  const drivers: Driver[] = [];
  let manyCount: ReturnType<typeof requestCounts>;
  let watches: number;
  let watchers: number;
  let closeCount: ReturnType<typeof requestCounts>;
  try {
    for (let i = 0; i < driverCount; i++) drivers.push(await benchK8sDriver(bench, benchNamespace('p9')));
    // Task i runs on driver i mod N: every driver has tasks in flight at once.
    await inPool(total, inFlight, (i) => driverTask(drivers[i % driverCount] as Driver, command));
    manyCount = requestCounts(bench);
    watches = bench.cluster.metrics.count('watch', 'pods');
    watchers = sharedPodWatchers();
  } finally {
    bench.cluster.metrics.reset();
    await Promise.all(drivers.map((driver) => driver.close()));
    closeCount = requestCounts(bench);
  }

  const many = summarize([manyCount.total / total]);
  const single = summarize([oneCount.total / total]);
  return [
    {
      id: 'P9',
      scale: `${driverCount} drivers × ${perDriver} tasks, ${inFlight} at once`,
      unit: 'req/task',
      subject: { label: `${driverCount} drivers in one process`, value: many },
      baseline: { label: `one driver, ${total} tasks`, value: single },
      ratio: many.median / single.median,
      target: targetOf('≤ 1.1×', many.median / single.median, 1.1, 'max'),
      note: `${driverCount} drivers: ${manyCount.breakdown}; one driver: ${oneCount.breakdown}; closing the ${driverCount} drivers (counted apart): ${closeCount.breakdown} (${(closeCount.total / driverCount).toFixed(1)} per driver)`,
    },
    {
      id: 'P9',
      scale: `${driverCount} drivers × ${perDriver} tasks, ${inFlight} at once`,
      unit: 'watches',
      subject: { label: 'WATCH requests of pods, whole process', value: summarize([watches]) },
      target: targetOf('1 per (cluster, namespace)', watches, 1, 'max'),
      note: `shared pod watchers open in the process while the tasks ran: ${watchers}`,
    },
  ];
}
