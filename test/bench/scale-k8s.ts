import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchNamespace } from './docker-baselines.js';
import { requestCounts, type BenchCluster } from './k8s-bench.js';
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

/** One checkpoint as the child prints it. */
interface ChildCheckpoint {
  checkpoint: number;
  from: number;
  /** After a memory-reducing GC (what the driver holds). */
  rss: number;
  /** After a plain full GC, before that (V8's slack from the traffic included). */
  rssPlain: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory of C++ objects bound to JavaScript ones (Buffers included). */
  external: number;
  /** The RSS split into anonymous memory and touched pages of mapped files (Linux only). */
  resident?: { anon: number; file: number };
  /** V8's allocations outside its heap now, and the peak of its zones (its compilers' working memory). */
  v8?: { malloced: number; peakMalloced: number };
  seconds: number;
  failed: number;
}

/** The child's last line. */
interface ChildEnd {
  done: true;
  failed: number;
  failures: Array<[string, number]>;
}

const CHILD = fileURLToPath(new URL('./scale-child.mjs', import.meta.url));
const MB = 2 ** 20;

/**
 * Runs the child (see `scale-child.mjs`) on the bench cluster: at each of its checkpoints,
 * the API requests since the last one are read from the server's counts, then it goes on.
 */
async function runChild(bench: BenchCluster, tasks: number, inFlight: number, checkpoints: readonly number[]): Promise<{ segments: Array<ChildCheckpoint & { requests: number }>; end: ChildEnd }> {
  bench.cluster.metrics.reset();
  // DRIVETRAIN_SCALE_NODE_FLAGS: Node options of the child only, to tell what grows (e.g. `--no-opt --no-maglev`).
  const nodeFlags = (process.env.DRIVETRAIN_SCALE_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', CHILD, String(tasks), String(inFlight), checkpoints.join(','), benchNamespace('scale')], {
    env: { ...process.env, KUBECONFIG: bench.cluster.kubeconfigPath },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_600_000);
  const segments: Array<ChildCheckpoint & { requests: number }> = [];
  let end: ChildEnd | undefined;
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if (!line.startsWith('{')) continue;
      const message = JSON.parse(line) as ChildCheckpoint | ChildEnd;
      if ('done' in message) {
        end = message;
        continue;
      }
      segments.push({ ...message, requests: requestCounts(bench).total });
      bench.cluster.metrics.reset();
      child.stdin.write('\n');
    }
    const code = await exited;
    if (end === undefined) throw new Error(`the scale child exited with ${code} without a report: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    return { segments, end };
  } finally {
    clearTimeout(timer);
    child.kill();
  }
}

/** `; anonymous A, files F` (MiB) when the child could read its split. */
function residentText(resident: ChildCheckpoint['resident']): string {
  return resident === undefined ? '' : `; anonymous ${(resident.anon / MB).toFixed(1)}, mapped files ${(resident.file / MB).toFixed(1)}`;
}

/**
 * Scale — `tasks` Kubernetes tasks (run → wait → logs → cleanup), `inFlight` at a time,
 * through one driver in a process of its own (on the compiled build, as P6) on the local
 * cluster. At each checkpoint the tasks in flight are let finish (no new one starts), so
 * every segment's requests belong to its own tasks; the segment's API requests per task
 * and the driver process's RSS after a memory-reducing GC (3 s quiet first, as P6) are read. Flat means the last segment costs
 * what the first did and memory does not grow with the tasks done. Failed tasks are
 * counted, with their errors.
 */
export async function measureScale(bench: BenchCluster, options: ScaleOptions = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 1000;
  const inFlight = options.inFlight ?? 50;
  const { segments, end } = await runChild(bench, tasks, inFlight, options.checkpoints ?? [100, 250, 500]);
  const perTask = segments.map((s) => s.requests / (s.checkpoint - s.from + 1));
  const [first, last] = [segments[0]!, segments[segments.length - 1]!];
  const firstRate = summarize([perTask[0]!]);
  const lastRate = summarize([perTask[perTask.length - 1]!]);
  const rssFirst = summarize([first.rss / MB]);
  const rssLast = summarize([last.rss / MB]);
  const scale = `${tasks} k8s tasks, ${inFlight} at once, one driver`;
  const detail = segments
    .map(
      (s, i) =>
        `tasks ${s.from}–${s.checkpoint}: ${perTask[i]!.toFixed(2)} req/task, RSS ${(s.rss / MB).toFixed(1)} MiB (${(s.rssPlain / MB).toFixed(1)} after a plain GC; heap used ${(s.heapUsed / MB).toFixed(1)} of ${(s.heapTotal / MB).toFixed(1)}, external ${(s.external / MB).toFixed(1)}${residentText(s.resident)}${s.v8 === undefined ? '' : `; V8 outside its heap ${(s.v8.malloced / MB).toFixed(1)}, its compilers' zones at their peak ${(s.v8.peakMalloced / MB).toFixed(1)}`}), ${((s.checkpoint - s.from + 1) / s.seconds).toFixed(1)} tasks/s`,
    )
    .join('; ');
  const errors = end.failed === 0 ? 'no error' : `${end.failed} failed tasks: ${end.failures.map(([what, n]) => `${n} × ${what}`).join('; ')}`;
  return [
    {
      id: 'Scale',
      scale,
      unit: 'req/task',
      subject: { label: `tasks ${last.from}–${last.checkpoint}`, value: lastRate },
      baseline: { label: `tasks ${first.from}–${first.checkpoint}`, value: firstRate },
      ratio: lastRate.median / firstRate.median,
      target: { text: 'flat (≤ 1.1×), no error', met: end.failed === 0 && lastRate.median / firstRate.median <= 1.1 },
      note: `${errors}; ${detail}; at each checkpoint the tasks in flight finish before the next starts`,
    },
    {
      id: 'Scale',
      scale,
      unit: 'MiB RSS',
      subject: { label: `driver process after ${last.checkpoint} tasks`, value: rssLast },
      baseline: { label: `after ${first.checkpoint} tasks`, value: rssFirst },
      ratio: rssLast.median / rssFirst.median,
      target: targetOf('flat (≤ 1.1×)', rssLast.median / rssFirst.median, 1.1, 'max'),
      note: 'the process runs the driver only (compiled build, no API server in it), read at each checkpoint after 3 s quiet and a memory-reducing GC, as P6',
    },
  ];
}
