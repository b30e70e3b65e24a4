// I1's measured process: imports one entry point of the compiled build and prints
// how long the import took and the process's memory before and after, as one JSON line.
//
//   node --expose-gc test/bench/i1-child.mjs <path of a compiled entry point>
//
// Plain JavaScript on the compiled build (`npm run build`, which `make bench` runs
// first), so no TypeScript loader is counted.
import { pathToFileURL } from 'node:url';

const [entry] = process.argv.slice(2);
if (entry === undefined) throw new Error('usage: i1-child.mjs <compiled entry point>');
globalThis.gc?.();
const before = process.memoryUsage();
const start = performance.now();
await import(pathToFileURL(entry).href);
const ms = performance.now() - start;
globalThis.gc?.();
const after = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ ms, rssBefore: before.rss, rss: after.rss, heapUsed: after.heapUsed })}\n`);
