// The scale run's measured process: one k8s driver runs `count` tasks (run → wait → logs →
// cleanup), `inFlight` at a time. At each checkpoint (tasks done) the tasks in flight
// finish, memory is read after a full GC and printed as one JSON line; the parent then
// reads the API server's request counts and answers with a line on stdin to go on. The
// last line says how many tasks failed and how.
//
//   node --expose-gc test/bench/scale-child.mjs <count> <inFlight> <checkpoint,…> <namespace>
//
// Plain JavaScript on the compiled build, as P6's child: the process holds the driver only
// (no TypeScript loader, no API server), so its memory is the driver's.
import { createInterface } from 'node:readline';
import { compact, residentSplit, v8Malloced } from './child-memory.mjs';

const { createDriver } = await import('../../dist/src/registry.js').catch((error) => {
  throw new Error(`the compiled build is missing (run npm run build): ${error.message}`);
});
const { CollectingWritable } = await import('../../dist/src/logs.js');

const [countText = '1000', inFlightText = '50', checkpointsText = '', namespace = 'bench-scale'] = process.argv.slice(2);
const count = Number(countText);
const inFlight = Number(inFlightText);
const checkpoints = [...new Set([...checkpointsText.split(',').filter(Boolean).map(Number).filter((c) => c < count), count])].sort((a, b) => a - b);
const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const driver = await createDriver('k8s', { namespace });
const failures = new Map();
let failed = 0;

async function task(index) {
  const container = await driver.runContainer({ id: `task-${index}`, image: 'busybox', command: ['true'] }, { signal: AbortSignal.timeout(300_000) });
  try {
    const status = await container.wait({ signal: AbortSignal.timeout(300_000) });
    if (status.exitCode !== 0) throw new Error(`the task ended with ${JSON.stringify(status)}`);
    await container.logs({ stdout: new CollectingWritable(), signal: AbortSignal.timeout(60_000) });
  } finally {
    await container.cleanup();
  }
}

function collect() {
  globalThis.gc?.();
  globalThis.gc?.();
}

try {
  let done = 0;
  for (const checkpoint of checkpoints) {
    const started = performance.now();
    let next = done;
    await Promise.all(
      Array.from({ length: Math.min(inFlight, checkpoint - done) }, async () => {
        while (next < checkpoint) {
          const index = next++;
          try {
            await task(index);
          } catch (error) {
            failed += 1;
            const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            failures.set(what, (failures.get(what) ?? 0) + 1);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    collect();
    const plain = process.memoryUsage();
    await compact();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ checkpoint, from: done + 1, rss, rssPlain: plain.rss, heapUsed, heapTotal, external, resident: residentSplit(), v8: v8Malloced(), seconds, failed })}\n`);
    done = checkpoint;
    await answers.next();
  }
} finally {
  await driver.close();
}
process.stdout.write(`${JSON.stringify({ done: true, failed, failures: [...failures].slice(0, 5) })}\n`);
process.exit(0);
