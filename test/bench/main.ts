/**
 * `make bench`: runs the performance measures P1–P7, each side by side with its
 * baseline in the same run, prints the table and writes `docs/performance.md`.
 *
 *   node --import tsx test/bench/main.ts [--only P1,P5] [--quick] [--no-write]
 *
 * `--quick` uses small sizes (a minute or so); `--no-write` leaves the document alone.
 */
import { fileURLToPath } from 'node:url';
import { describeMachine } from './machine.js';
import { MEASURES, type BenchEnv, type MeasureEntry } from './measures.js';
import { startBenchCluster, type BenchCluster } from './k8s-bench.js';
import { ANALYSIS } from './analysis.js';
import { textTable, writeReport } from './report.js';
import type { BenchRow } from './row.js';

interface Cli {
  only: Set<string> | undefined;
  quick: boolean;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { only: undefined, quick: false, write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') cli.quick = true;
    else if (arg === '--no-write') cli.write = false;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new Error('--only needs a list such as P1,P5');
      const ids = value.split(',').map((s) => s.trim().toUpperCase());
      const known = new Set(MEASURES.map((m) => m.id));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0) throw new Error(`--only: unknown measure(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
      cli.only = new Set(ids);
    } else throw new Error(`unknown argument ${arg}; use --only P1,P5, --quick, --no-write`);
  }
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
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
  if (cli.write) {
    const path = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
    const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    await writeReport(path, { date: new Date(), machine, rows, skipped, command, analysis: ANALYSIS });
    console.log(`wrote ${path}`);
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
