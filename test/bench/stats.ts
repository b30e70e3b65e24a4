/** Summary statistics of one series of samples. */
export interface Summary {
  /** How many samples. */
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median, min and max of `samples` (which must not be empty). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize needs at least one sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n: sorted.length, median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** `subject / baseline` of the medians; `NaN` when the baseline median is 0. */
export function ratio(subject: Summary, baseline: Summary): number {
  return baseline.median === 0 ? Number.NaN : subject.median / baseline.median;
}

/** Milliseconds elapsed since `start` (a `performance.now()` reading). */
export function since(start: number): number {
  return performance.now() - start;
}

/** Runs `fn` and returns how long it took, in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return since(start);
}

/**
 * Runs every variant `rounds` times, interleaved: each round runs each variant once,
 * in an order rotated per round, so that drifts in machine load hit all variants
 * alike. Returns the samples of each variant (whatever its function returned).
 */
export async function interleave<K extends string>(rounds: number, variants: Record<K, () => Promise<number>>): Promise<Record<K, number[]>> {
  const keys = Object.keys(variants) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(round + i) % keys.length] as K;
      samples[key].push(await variants[key]());
    }
  }
  return samples;
}
