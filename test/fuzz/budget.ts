import { appendFileSync, mkdirSync } from 'node:fs';
import fc from 'fast-check';

/**
 * How many cases each property gets, and a record of what ran.
 *
 * `make test` runs a small share of every property (the added time stays small);
 * `make fuzz` (DRIVETRAIN_FUZZ=full) runs the full count: at least 10,000 generated cases
 * per property of pure code, streams and the file system. `DRIVETRAIN_FUZZ_SEED` replays
 * a failure (fast-check prints the seed and path of every counterexample it shrank).
 */

/** What a property touches, which sets its cost per case. */
export type PropertyKind =
  /** Pure functions: microseconds per case. */
  | 'pure'
  /** In-memory streams, loopback sockets, child processes: about a millisecond per case. */
  | 'stream'
  /** A temporary directory per case. */
  | 'fs';

/** True under `make fuzz`. */
export const FULL_RUN = process.env.DRIVETRAIN_FUZZ === 'full';

const RUNS: Record<PropertyKind, { quick: number; full: number }> = {
  pure: { quick: 1_000, full: 10_000 },
  stream: { quick: 100, full: 10_000 },
  fs: { quick: 100, full: 10_000 },
};

/** The number of cases a property of `kind` gets in this run. */
export function runsFor(kind: PropertyKind): number {
  return FULL_RUN ? RUNS[kind].full : RUNS[kind].quick;
}

/** fast-check parameters for a property of `kind`: its case count, and the replay seed when one is set. */
export function parametersFor(kind: PropertyKind): fc.Parameters<unknown> {
  const seed = process.env.DRIVETRAIN_FUZZ_SEED;
  return { numRuns: runsFor(kind), ...(seed === undefined ? {} : { seed: Number(seed) }) };
}

const REPORT = '.drivetrain/fuzz-cases.jsonl';

/** Checks `property` with the case count of `kind`; under `make fuzz` records how many cases ran (see test/infra/fuzz-summary.mjs). */
export async function checkProperty<Ts>(name: string, kind: PropertyKind, property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>): Promise<void> {
  const parameters = parametersFor(kind) as fc.Parameters<Ts>;
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, parameters);
  if (FULL_RUN) {
    mkdirSync('.drivetrain', { recursive: true });
    appendFileSync(REPORT, `${JSON.stringify({ property: name, kind, runs: details.numRuns, failed: details.failed })}\n`);
  }
  // fast-check's own report: the seed, the path and the shrunk counterexample.
  if (details.failed) throw new Error(`${name}: ${fc.defaultReportMessage(details) ?? 'failed'}`);
}
