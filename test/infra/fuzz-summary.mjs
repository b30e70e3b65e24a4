// Prints how many generated cases each property ran, from .drivetrain/fuzz-cases.jsonl
// (written by test/fuzz/budget.ts), and fails when a full run gave any property fewer than 10,000.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.drivetrain/fuzz-cases.jsonl';
const minimum = Number(process.argv[3] ?? 0);
if (!existsSync(file)) {
  console.log(`fuzz: no record at ${file}`);
  process.exit(1);
}
const totals = new Map();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  const { property, kind, runs, failed } = JSON.parse(line);
  const row = totals.get(property) ?? { kind, runs: 0, failed: false };
  row.runs += runs;
  row.failed ||= failed;
  totals.set(property, row);
}
const rows = [...totals].sort(([a], [b]) => a.localeCompare(b));
const width = Math.max(...rows.map(([name]) => name.length));
let short = 0;
for (const [name, { kind, runs, failed }] of rows) {
  if (runs < minimum) short += 1;
  console.log(`${name.padEnd(width)}  ${kind.padEnd(6)}  ${String(runs).padStart(7)}${failed ? '  FAILED' : ''}${runs < minimum ? '  (below the minimum)' : ''}`);
}
const total = rows.reduce((sum, [, row]) => sum + row.runs, 0);
console.log(`fuzz: ${rows.length} properties, ${total} generated cases`);
process.exit(short === 0 ? 0 : 1);
