// Memory readings shared by the benchmark children (P6, P6k, Scale).

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
