import { fileURLToPath } from 'node:url';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { summarize } from './stats.js';
import { benchNamespace, runProcess } from './docker-baselines.js';

/** Sizes of P6. */
export interface P6Options {
  /** The number of finished tasks the figure is for. @default 1000 */
  target?: number;
  /** Real tasks the child runs and holds. @default `target` */
  tasks?: number;
  /** Tasks in flight while the child makes them finish. @default 16 */
  concurrency?: number;
  /** The child's environment (the k8s driver finds its cluster by `KUBECONFIG`). @default this process's */
  env?: NodeJS.ProcessEnv;
  /** The target, in MB (10^6 bytes). @default 100 */
  limitMB?: number;
  /** The row's ID. @default P6 */
  id?: string;
}

/** What `p6-child.mjs` prints. */
interface ChildReport {
  driver: string;
  count: number;
  rssBefore: number;
  heapUsedBefore: number;
  /** After a plain full GC right after the tasks finished: includes the heap V8 grew for the traffic. */
  rssAfterBurst: number;
  heapTotalAfterBurst: number;
  /** After a memory-reducing GC: what holding the tasks costs. */
  rssAfter: number;
  heapTotalAfter: number;
  heapUsedAfter: number;
  runMs: number;
  /** Memory at a quarter of the tasks and at the end. */
  checkpoints: Array<{ count: number; rss: number; heapUsed: number }>;
}

const CHILD = fileURLToPath(new URL('./p6-child.mjs', import.meta.url));
const MB = 2 ** 20;

/** Runs the child for one driver (its tasks in a fresh bench namespace) and returns what it reported. */
export async function measureChild(driver: string, tasks: number, concurrency: number, env?: NodeJS.ProcessEnv): Promise<ChildReport> {
  const args = [CHILD, driver, String(tasks), String(concurrency), 'hold', benchNamespace('p6')];
  const result = await runProcess(process.execPath, ['--expose-gc', ...args], 1_200_000, env);
  const line = result.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{')) {
    // Exit 13: the child's event loop emptied while it awaited a promise that never settled.
    const lines = result.stderr.trim().split('\n');
    // The thrown error's own line (`SomeError: message`), not a source line that mentions one.
    const firstError = lines.find((line) => /^\s*\w*Error(\s*\[\w+\])?: /.test(line)) ?? lines.slice(-3).join(' ');
    const why = result.code === 13 ? 'a promise of the driver never settled (its event loop emptied while waiting)' : firstError.trim();
    throw new Error(`the ${driver} child exited with ${result.code} without a report: ${why}`);
  }
  return JSON.parse(line) as ChildReport;
}

/**
 * P6 — resident memory of one process holding finished tasks of `driver` (handles
 * kept, final statuses cached), measured in a separate Node process. The figure held
 * against the target is read after a memory-reducing GC (V8's own response to memory
 * pressure), so it is what tracking the tasks costs; the figure right after the burst,
 * which also holds the young generation V8 grew for the traffic, is reported beside it.
 * The baseline is that process before the bulk (driver loaded, one task run).
 *
 * `tasks` real tasks are run; when that is fewer than `target` (Docker: the engine
 * starts ~5–10 containers a second on two cores, so 1000 would take minutes), the
 * figure at `target` is extrapolated from the marginal growth per task between a
 * quarter of the tasks and all of them (the larger of the RSS and the heap growth),
 * and the row says so.
 */
export async function measureP6(driver: string, options: P6Options = {}): Promise<BenchRow[]> {
  const target = options.target ?? 1000;
  const tasks = options.tasks ?? target;
  const concurrency = options.concurrency ?? 16;
  const report = await measureChild(driver, tasks, concurrency, options.env);
  const id = options.id ?? 'P6';
  const limitMB = options.limitMB ?? 100;
  if (report.count !== tasks) throw new Error(`the ${driver} child held ${report.count} of ${tasks} tasks`);
  const [first, last] = [report.checkpoints[0], report.checkpoints[report.checkpoints.length - 1]];
  const span = first !== undefined && last !== undefined ? last.count - first.count : 0;
  const perTask =
    first !== undefined && last !== undefined && span > 0
      ? Math.max(0, (last.rss - first.rss) / span, (last.heapUsed - first.heapUsed) / span)
      : Math.max(0, (report.rssAfter - report.rssBefore) / tasks, (report.heapUsedAfter - report.heapUsedBefore) / tasks);
  const extrapolated = tasks < target;
  const atTarget = extrapolated ? report.rssAfter + perTask * (target - tasks) : report.rssAfter;
  const after = summarize([atTarget / MB]);
  const before = summarize([report.rssBefore / MB]);
  const burstAtTarget = extrapolated ? report.rssAfterBurst + perTask * (target - tasks) : report.rssAfterBurst;
  const burst = summarize([burstAtTarget / MB]);
  const how = extrapolated
    ? `${tasks} real tasks held (RSS ${(report.rssAfter / MB).toFixed(1)} MiB), extrapolated to ${target} at ${(perTask / 1024).toFixed(1)} KiB per task (growth from task ${first?.count} to ${last?.count})`
    : `${tasks} real tasks held, ${(perTask / 1024).toFixed(1)} KiB per task from task ${first?.count} to ${last?.count}`;
  return [
    {
      id,
      scale: `${driver}, ${target} finished`,
      unit: 'MiB RSS',
      subject: { label: `holding ${target} handles + statuses${extrapolated ? ' (extrapolated)' : ''}`, value: after },
      baseline: { label: 'same process before (driver loaded)', value: before },
      ratio: after.median / before.median,
      target: targetOf(`≤ ${limitMB} MB`, (after.median * MB) / 1e6, limitMB, 'max'),
      note: `${how}; heap used ${(report.heapUsedAfter / MB).toFixed(1)} MiB of ${(report.heapTotalAfter / MB).toFixed(1)} MiB after a memory-reducing GC; making them finish took ${(report.runMs / 1000).toFixed(1)} s at ${concurrency} in flight`,
    },
    {
      id,
      scale: `${driver}, ${target} finished, right after`,
      unit: 'MiB RSS',
      subject: { label: `holding ${target} handles + statuses, plain GC only${extrapolated ? ' (extrapolated)' : ''}`, value: burst },
      baseline: { label: 'same process before (driver loaded)', value: before },
      ratio: burst.median / before.median,
      note: `right after the tasks finished, after a plain full GC: V8's heap is ${(report.heapTotalAfterBurst / MB).toFixed(1)} MiB for ${(report.heapUsedAfter / MB).toFixed(1)} MiB in use, the rest being the young generation and pages the traffic grew, which V8 gives back under memory pressure`,
    },
  ];
}
