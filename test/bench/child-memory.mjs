// Memory readings shared by the benchmark children (P6, P6k, Scale).
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

/**
 * The process gone quiet, then a memory-reducing GC (what V8 runs under memory pressure): it
 * compacts the old generation and gives back the young generation that the burst of traffic
 * grew, which V8 only shrinks once allocation has slowed down (hence the pause). What is
 * resident after it is what the process holds; before it, partly V8's slack.
 */
export async function compact() {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * The resident memory split as Linux counts it (/proc/self/status, bytes): `anon` is what the
 * process allocated (V8's heap, Buffers, native allocations), `file` the pages of mapped files
 * it touched (the node binary and shared libraries: code paths run for the first time grow it,
 * and it is not freed by any GC). `undefined` where /proc is not there.
 */
export function residentSplit() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const split = { anon: kib('RssAnon'), file: kib('RssFile') };
    return Number.isFinite(split.anon) && Number.isFinite(split.file) ? split : undefined;
  } catch {
    return undefined;
  }
}

/**
 * V8's own allocations outside its heap (bytes): `malloced` now, and `peakMalloced`, the most
 * its zones ever held at once — mostly the working memory of its optimizing compilers, freed
 * after each compilation, which the C allocator may keep resident as free space.
 */
export function v8Malloced() {
  const { malloced_memory: malloced, peak_malloced_memory: peakMalloced } = getHeapStatistics();
  return { malloced, peakMalloced };
}
