import { fileURLToPath } from 'node:url';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { summarize } from './stats.js';
import { runProcess } from './docker-baselines.js';

/** Sizes of P6. */
export interface P6Options {
  /** Finished tasks the child holds. @default 1000 */
  tasks?: number;
  /** Tasks in flight while the child makes them finish. @default 16 */
  concurrency?: number;
}

/** What `p6-child.mjs` prints. */
interface ChildReport {
  driver: string;
  count: number;
  rssBefore: number;
  rssAfter: number;
  heapUsedAfter: number;
  runMs: number;
}

const CHILD = fileURLToPath(new URL('./p6-child.mjs', import.meta.url));
const MB = 2 ** 20;

/** Runs the child for one driver and returns what it reported. */
export async function measureChild(driver: string, tasks: number, concurrency: number): Promise<ChildReport> {
  const result = await runProcess(process.execPath, ['--expose-gc', CHILD, driver, String(tasks), String(concurrency)], 600_000);
  const line = result.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{')) {
    // Exit 13: the child's event loop emptied while it awaited a promise that never settled.
    const why = result.code === 13 ? 'a promise of the driver never settled (its event loop emptied while waiting)' : result.stderr.trim().split('\n').slice(-3).join(' ');
    throw new Error(`the ${driver} child exited with ${result.code} without a report: ${why}`);
  }
  return JSON.parse(line) as ChildReport;
}

/**
 * P6 — resident memory of one process holding `tasks` finished tasks of `driver`
 * (handles kept, final statuses cached), measured in a separate Node process after a
 * full GC. The baseline is that process before the bulk (driver loaded, one task run).
 */
export async function measureP6(driver: string, options: P6Options = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const report = await measureChild(driver, tasks, concurrency);
  if (report.count !== tasks) throw new Error(`the ${driver} child held ${report.count} of ${tasks} tasks`);
  const after = summarize([report.rssAfter / MB]);
  const before = summarize([report.rssBefore / MB]);
  const perTaskKiB = ((report.rssAfter - report.rssBefore) / 1024 / tasks).toFixed(1);
  return [
    {
      id: 'P6',
      scale: `${driver}, ${tasks} finished`,
      unit: 'MiB RSS',
      subject: { label: `holding ${tasks} handles + statuses`, value: after },
      baseline: { label: 'same process before (driver loaded)', value: before },
      ratio: after.median / before.median,
      target: targetOf('≤ 100 MB', (after.median * MB) / 1e6, 100, 'max'),
      note: `heap used ${(report.heapUsedAfter / MB).toFixed(1)} MiB; ${perTaskKiB} KiB RSS per task; making them finish took ${(report.runMs / 1000).toFixed(1)} s at ${concurrency} in flight`,
    },
  ];
}
