/**
 * `make bench`: runs the performance measures (I1, P1–P9, Scale), each side by side with its
 * baseline in the same run, prints the table and writes `docs/performance.md`.
 *
 *   node --import tsx test/bench/main.ts [--only P1,P5] [--quick] [--no-write]
 *
 * `--quick` uses small sizes (a minute or so); `--no-write` leaves the document alone.
 * Each written run also saves its results to `.drivetrain/bench-results.json`; `--render`
 * rewrites the document from that file without measuring (after editing the analysis).
 * A run with `--only` keeps the saved rows of the measures it did not run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, type MachineInfo } from './machine.js';
import { MEASURES, type BenchEnv, type MeasureEntry } from './measures.js';
import { startBenchCluster, type BenchCluster } from './k8s-bench.js';
import { ANALYSIS } from './analysis.js';
import { CLI_ANALYSIS } from './analysis-cli.js';
import { textTable, writeReport } from './report.js';
import type { BenchRow } from './row.js';

interface Cli {
  only: Set<string> | undefined;
  quick: boolean;
  write: boolean;
  render: boolean;
}

/** What a run saves, so the document can be re-rendered without measuring again. */
interface SavedRun {
  date: string;
  command: string;
  machine: MachineInfo;
  rows: BenchRow[];
  skipped: Array<{ id: string; why: string }>;
}

const DOC_PATH = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
const RESULTS_PATH = fileURLToPath(new URL('../../.drivetrain/bench-results.json', import.meta.url));

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { only: undefined, quick: false, write: true, render: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') cli.quick = true;
    else if (arg === '--no-write') cli.write = false;
    else if (arg === '--render') cli.render = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new Error('--only needs a list such as P1,P5');
      // IDs are matched whatever their case (P6k, Scale).
      const known = new Map(MEASURES.map((m) => [m.id.toUpperCase(), m.id]));
      const ids = value.split(',').map((s) => known.get(s.trim().toUpperCase()) ?? s.trim());
      const unknown = ids.filter((id) => ![...known.values()].includes(id));
      if (unknown.length > 0) throw new Error(`--only: unknown measure(s) ${unknown.join(', ')}; known: ${[...known.values()].join(', ')}`);
      cli.only = new Set(ids);
    } else throw new Error(`unknown argument ${arg}; use --only P1,P5, --quick, --no-write, --render`);
  }
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.render) {
    const saved = JSON.parse(await readFile(RESULTS_PATH, 'utf8')) as SavedRun;
    await writeReport(DOC_PATH, { ...saved, date: new Date(saved.date), analysis: `${ANALYSIS}\n${CLI_ANALYSIS}` });
    console.log(`wrote ${DOC_PATH} from ${RESULTS_PATH}`);
    return;
  }
  const started = Date.now();
  const machine = await describeMachine();
  const selected = MEASURES.filter((m) => cli.only === undefined || cli.only.has(m.id));
  const rows: BenchRow[] = [];
  const skipped: Array<{ id: string; why: string }> = [];
  let cluster: Promise<BenchCluster> | undefined;
  const env: BenchEnv = { cluster: () => (cluster ??= startBenchCluster()) };
  try {
    await runAll(selected, env, cli.quick, rows, skipped);
  } finally {
    await cluster?.then((c) => c.stop()).catch(() => {});
  }
  console.log(`\n${textTable(rows)}\n`);
  for (const s of skipped) console.log(`not measured: ${s.id}: ${s.why}`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const saved: SavedRun = { date: new Date().toISOString(), command, machine, rows, skipped };
  if (cli.only !== undefined) {
    const previous = await readFile(RESULTS_PATH, 'utf8').then((text) => JSON.parse(text) as SavedRun, () => undefined);
    if (previous !== undefined) {
      const only = cli.only;
      const kept = previous.rows.filter((row) => !only.has(row.id));
      saved.rows = [...kept, ...rows].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      saved.skipped = [...previous.skipped.filter((s) => !only.has(s.id.split(' ')[0] ?? '')), ...skipped];
      saved.command = `${previous.command}, then ${command} (rows of ${[...only].join(', ')} from ${saved.date})`;
      saved.date = previous.date;
    }
  }
  if (cli.write) {
    await mkdir(dirname(RESULTS_PATH), { recursive: true });
    await writeFile(RESULTS_PATH, JSON.stringify(saved, null, 2));
    await writeReport(DOC_PATH, { ...saved, date: new Date(saved.date), analysis: `${ANALYSIS}\n${CLI_ANALYSIS}` });
    console.log(`wrote ${DOC_PATH}`);
  }
}

/** Runs the measures one after the other; a measure that fails is reported, not fatal. */
async function runAll(selected: readonly MeasureEntry[], env: BenchEnv, quick: boolean, rows: BenchRow[], skipped: Array<{ id: string; why: string }>): Promise<void> {
  for (const measure of selected) {
    const t = Date.now();
    process.stdout.write(`${measure.id} ${measure.title} … `);
    try {
      rows.push(...(await (quick ? measure.quick(env) : measure.full(env))));
      process.stdout.write(`${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      skipped.push({ id: `${measure.id} (${measure.title})`, why });
      process.stdout.write(`not measured: ${why}\n`);
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
