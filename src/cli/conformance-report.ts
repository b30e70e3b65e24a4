/** One conformance case as the CLI prints it. */
export interface CaseRow {
  name: string;
  /** `passed`, `failed`, `skipped`, … as vitest reports it. */
  result: string;
  /** Milliseconds; undefined when the case did not run. */
  durationMs: number | undefined;
  /** The first line of the first failure message, for failed cases. */
  failure?: string;
}

/**
 * The cases of a vitest JSON report (`--reporter=json`), in file order.
 * Throws a TypeError when `report` is not such a report.
 */
export function caseRows(report: unknown): CaseRow[] {
  const files = (report as { testResults?: unknown } | null)?.testResults;
  if (!Array.isArray(files)) throw new TypeError('not a vitest JSON report: no testResults');
  const rows: CaseRow[] = [];
  for (const file of files as Array<{ assertionResults?: unknown; status?: unknown; message?: unknown; name?: unknown }>) {
    const cases = Array.isArray(file.assertionResults) ? (file.assertionResults as Array<Record<string, unknown>>) : [];
    // A file that failed to load has no cases, only a message: show it as one failed row.
    if (cases.length === 0 && file.status === 'failed') {
      rows.push({ name: String(file.name ?? 'test file'), result: 'failed', durationMs: undefined, failure: firstLine(file.message) });
    }
    for (const c of cases) {
      const messages = Array.isArray(c['failureMessages']) ? (c['failureMessages'] as unknown[]) : [];
      const row: CaseRow = {
        name: String(c['fullName'] ?? c['title'] ?? '?'),
        result: String(c['status'] ?? 'unknown'),
        durationMs: typeof c['duration'] === 'number' ? c['duration'] : undefined,
      };
      if (row.result === 'failed' && messages.length > 0) row.failure = firstLine(messages[0]);
      rows.push(row);
    }
  }
  return rows;
}

/** A plain-text table: case, result, duration; failure reasons indented under failed cases. */
export function formatTable(rows: readonly CaseRow[]): string {
  const nameWidth = Math.min(100, Math.max(4, ...rows.map((r) => r.name.length)));
  const line = (name: string, result: string, duration: string): string => `${name.padEnd(nameWidth)}  ${result.padEnd(7)}  ${duration.padStart(8)}\n`;
  let out = line('case', 'result', 'duration');
  for (const row of rows) {
    const name = row.name.length > nameWidth ? `${row.name.slice(0, nameWidth - 1)}…` : row.name;
    out += line(name, row.result, row.durationMs === undefined ? '-' : `${Math.round(row.durationMs)} ms`);
    if (row.failure !== undefined) out += `    ${row.failure}\n`;
  }
  const count = (result: string): number => rows.filter((r) => r.result === result).length;
  out += `\n${count('passed')} passed, ${count('failed')} failed, ${rows.length - count('passed') - count('failed')} other, ${rows.length} total\n`;
  return out;
}

function firstLine(value: unknown): string {
  return String(value ?? '').split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}
