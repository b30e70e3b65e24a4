// I1's measured process: imports one entry point of the compiled build and prints
// how long the import took (wall and CPU time) and the process's memory before and after,
// as one JSON line. CPU time is the steadier figure on a loaded machine: it leaves out the
// time spent waiting for a core.
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
const cpuStart = process.cpuUsage();
await import(pathToFileURL(entry).href);
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
globalThis.gc?.();
const after = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore: before.rss, rss: after.rss, heapUsed: after.heapUsed })}\n`);
