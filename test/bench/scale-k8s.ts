import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { benchNamespace } from './docker-baselines.js';
import { benchK8sDriver, driverTask, requestCounts, type BenchCluster } from './k8s-bench.js';
import { inPool } from './p9-many-drivers.js';
import { targetOf, type BenchRow } from './row.js';
import { summarize } from './stats.js';

/** Sizes of the scale run. */
export interface ScaleOptions {
  /** Tasks in all. @default 1000 */
  tasks?: number;
  /** Tasks in flight at once. @default 50 */
  inFlight?: number;
  /** Where requests and memory are read (tasks done). @default 100, 250, 500 and `tasks` */
  checkpoints?: readonly number[];
}

const MB = 2 ** 20;

/** A full garbage collection, for steady memory readings (the bench runs without `--expose-gc`). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Scale — `tasks` Kubernetes tasks (run → wait → logs → cleanup), `inFlight` at a time,
 * through one driver on the local cluster. At each checkpoint the tasks in flight are let
 * finish (no new one starts), so every segment's requests belong to its own tasks; then the
 * API requests of the segment per task and this process's RSS after a full GC are read.
 * Flat means the last segment costs what the first did, and memory does not grow with
 * the tasks done. Every failed task is counted (and its first error kept).
 */
export async function measureScale(bench: BenchCluster, options: ScaleOptions = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 1000;
  const inFlight = options.inFlight ?? 50;
  const checkpoints = [...new Set([...(options.checkpoints ?? [100, 250, 500]).filter((c) => c < tasks), tasks])].sort((a, b) => a - b);
  const driver = await benchK8sDriver(bench, benchNamespace('scale'));
  const segments: Array<{ from: number; to: number; requests: number; rss: number; seconds: number }> = [];
  let errors = 0;
  let firstError = '';
  try {
    bench.cluster.metrics.reset();
    let done = 0;
    for (const checkpoint of checkpoints) {
      const started = performance.now();
      await inPool(checkpoint - done, inFlight, async () => {
        try {
          await driverTask(driver, ['true']);
        } catch (error) {
          errors += 1;
          firstError ||= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
      });
      const seconds = (performance.now() - started) / 1000;
      const requests = requestCounts(bench).total;
      bench.cluster.metrics.reset();
      collectGarbage();
      segments.push({ from: done + 1, to: checkpoint, requests, rss: process.memoryUsage().rss, seconds });
      done = checkpoint;
    }
  } finally {
    await driver.close();
  }
  const perTask = segments.map((s) => s.requests / (s.to - s.from + 1));
  const [first, last] = [segments[0]!, segments[segments.length - 1]!];
  const firstRate = summarize([perTask[0]!]);
  const lastRate = summarize([perTask[perTask.length - 1]!]);
  const rssFirst = summarize([first.rss / MB]);
  const rssLast = summarize([last.rss / MB]);
  const scale = `${tasks} k8s tasks, ${inFlight} at once, one driver`;
  const detail = segments
    .map((s, i) => `tasks ${s.from}–${s.to}: ${perTask[i]!.toFixed(2)} req/task, RSS ${(s.rss / MB).toFixed(1)} MiB, ${((s.to - s.from + 1) / s.seconds).toFixed(1)} tasks/s`)
    .join('; ');
  const errorText = errors === 0 ? 'no error' : `${errors} failed tasks (first: ${firstError})`;
  return [
    {
      id: 'Scale',
      scale,
      unit: 'req/task',
      subject: { label: `tasks ${last.from}–${last.to}`, value: lastRate },
      baseline: { label: `tasks ${first.from}–${first.to}`, value: firstRate },
      ratio: lastRate.median / firstRate.median,
      target: { text: 'flat (≤ 1.1×), no error', met: errors === 0 && lastRate.median / firstRate.median <= 1.1 },
      note: `${errorText}; ${detail}; at each checkpoint the tasks in flight finish before the next start`,
    },
    {
      id: 'Scale',
      scale,
      unit: 'MiB RSS',
      subject: { label: `after ${last.to} tasks`, value: rssLast },
      baseline: { label: `after ${first.to} tasks`, value: rssFirst },
      ratio: rssLast.median / rssFirst.median,
      target: targetOf('flat (≤ 1.1×)', rssLast.median / rssFirst.median, 1.1, 'max'),
      note: `the bench process itself (TypeScript loader included), after a full GC at each checkpoint`,
    },
  ];
}
