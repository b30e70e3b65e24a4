import { fileURLToPath } from 'node:url';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, summarize } from './stats.js';
import { runProcess } from './docker-baselines.js';

/** Sizes of I1. */
export interface I1Options {
  /** Fresh processes per entry point. @default 10 */
  rounds?: number;
}

/** What `i1-child.mjs` prints. */
interface ChildReport {
  /** Time of the `import()`, in milliseconds. */
  ms: number;
  /** CPU time (user and system, all threads) the import took, in milliseconds. */
  cpuMs: number;
  /** Resident memory before and after the import, in bytes. */
  rssBefore: number;
  rss: number;
  heapUsed: number;
}

const CHILD = fileURLToPath(new URL('./i1-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const MB = 2 ** 20;
/** Bytes in a megabyte, as the targets count them (MB, not MiB). */
const DECIMAL_MB = 1e6;

/** The targets of each entry point: wall time of the import, and RSS it adds over a bare process. */
const I1_TARGETS: Readonly<Record<string, { ms: number; addedMB: number }>> = {
  'drivetrain/k8s': { ms: 300, addedMB: 40 },
  'drivetrain/docker': { ms: 150, addedMB: 20 },
};

/** The public entry points measured, by the name a user imports them with. */
export const I1_ENTRIES: Readonly<Record<string, string>> = {
  'drivetrain/k8s': `${DIST}drivers/k8s/index.js`,
  'drivetrain/docker': `${DIST}drivers/docker/index.js`,
};

/** Imports `entry` (a compiled file) in a fresh Node process of `node` and returns its report. */
export async function importOnce(entry: string, node = process.execPath): Promise<ChildReport> {
  const result = await runProcess(node, ['--expose-gc', CHILD, entry], 60_000);
  const line = result.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`importing ${entry} exited with ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(line) as ChildReport;
}

/**
 * I1 — what importing a driver costs a process: the time of the first `import()` of
 * `drivetrain/k8s` and `drivetrain/docker` (their SDKs included), wall and CPU, and the
 * resident memory after it, each in a fresh Node process on the compiled build, against the
 * same process before the import. The entry points and a bare process are interleaved.
 */
export async function measureI1(options: I1Options = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 10;
  const reports = Object.fromEntries(Object.keys(I1_ENTRIES).map((name) => [name, [] as ChildReport[]]));
  await interleave(
    rounds,
    Object.fromEntries(
      Object.entries(I1_ENTRIES).map(([name, file]) => [
        name,
        async () => {
          const report = await importOnce(file);
          reports[name]?.push(report);
          return report.ms;
        },
      ]),
    ),
  );
  return Object.entries(reports).flatMap(([name, list]): BenchRow[] => {
    const scale = `import ${name}`;
    const rssBefore = summarize(list.map((r) => r.rssBefore / MB));
    const rss = summarize(list.map((r) => r.rss / MB));
    const time = summarize(list.map((r) => r.ms));
    const cpu = summarize(list.map((r) => r.cpuMs));
    const added = summarize(list.map((r) => (r.rss - r.rssBefore) / MB));
    const addedMB = summarize(list.map((r) => (r.rss - r.rssBefore) / DECIMAL_MB));
    const limits = I1_TARGETS[name];
    return [
      { id: 'I1', scale, unit: 'ms', subject: { label: 'first import() in a fresh process', value: time }, ...(limits === undefined ? {} : { target: targetOf(`≤ ${limits.ms} ms`, time.median, limits.ms, 'max') }) },
      { id: 'I1', scale, unit: 'ms CPU', subject: { label: 'CPU time of that import', value: cpu }, note: 'CPU time (user and system, every thread) leaves out waiting for a core, so it is the steadier figure on a loaded machine' },
      {
        id: 'I1',
        scale,
        unit: 'MiB RSS',
        subject: { label: 'resident memory after the import', value: rss },
        baseline: { label: 'same process before the import', value: rssBefore },
        ratio: rss.median / rssBefore.median,
        ...(limits === undefined ? {} : { target: targetOf(`≤ +${limits.addedMB} MB`, addedMB.median, limits.addedMB, 'max') }),
        note: `the import adds ${added.median.toFixed(1)} MiB = ${addedMB.median.toFixed(1)} MB RSS (median; ${added.min.toFixed(1)}–${added.max.toFixed(1)} MiB) to a bare process`,
      },
    ];
  });
}
