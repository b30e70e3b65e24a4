import type { Summary } from './stats.js';

/** A compared series: what was measured and its statistics. */
export interface Series {
  /** What ran, e.g. `drivetrain docker driver`. */
  label: string;
  value: Summary;
}

/** One line of the benchmark table. */
export interface BenchRow {
  /** The measure's ID, `P1` … `P8`. */
  id: string;
  /** The size of this row: tasks, concurrency, bytes, … e.g. `20 sequential`. */
  scale: string;
  /** The unit of the values: `ms`, `ms/task`, `requests/task`, `MB`, `MB/s`. */
  unit: string;
  subject: Series;
  /** The baseline measured in the same run, interleaved with the subject. */
  baseline?: Series;
  /** `subject.median / baseline.median`, when there is a baseline. */
  ratio?: number;
  /** The goal in words, e.g. `<= 0.9x`, and whether this row meets it. */
  target?: { text: string; met: boolean };
  /** What the reader needs to interpret the row. */
  note?: string;
}

/** Whether `value` meets `<= limit` (pass `'max'`) or `>= limit` (pass `'min'`). */
export function targetOf(text: string, value: number, limit: number, kind: 'max' | 'min'): { text: string; met: boolean } {
  const met = Number.isFinite(value) && (kind === 'max' ? value <= limit : value >= limit);
  return { text, met };
}
