// P6's measured process: makes `count` tasks finish through one driver, keeps every
// handle and its final status, and prints its resident memory as one JSON line.
//
//   node --expose-gc test/bench/p6-child.mjs <docker|native|k8s> <count> <concurrency> [hold|drop] [namespace]
//
// The k8s driver finds its cluster by KUBECONFIG.
//
// Plain JavaScript on the compiled build (`npm run build`, which `make bench` runs
// first): under a TypeScript loader the loader itself would add ~40 MB of RSS to
// the figure.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { compact } from './child-memory.mjs';

const { createDriver } = await import('../../dist/src/registry.js').catch((error) => {
  throw new Error(`the compiled build is missing (run npm run build): ${error.message}`);
});

function pick(usage) {
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

function settle() {
  // Two passes: the first may only schedule finalisers.
  globalThis.gc?.();
  globalThis.gc?.();
}

const [driverName = 'docker', countText = '1000', concurrencyText = '16', mode = 'hold', namespace = `bench-p6-${randomBytes(3).toString('hex')}`] =
  process.argv.slice(2);
// `drop` keeps no handle: a control run that tells the handles' memory from the traffic's.
const keep = mode !== 'drop';
const count = Number(countText);
const concurrency = Number(concurrencyText);
// The close of a thousand held tasks is bounded generously: the figure is the memory held, and
// removing a thousand pods through the local kubelet on a loaded machine takes longer than the
// default minute.
const driver = await createDriver(driverName, { namespace, closeTimeoutMs: 900_000 });
const task = (id) => ({ id, image: 'busybox', command: ['true'] });
// One deadline for the whole run: a fresh AbortSignal.timeout per wait would keep a
// thousand pending timers (and what they hold) alive and be counted as the driver's.
const deadline = AbortSignal.timeout(1_800_000);
setMaxListeners(0, deadline);
const held = [];
try {
  const warm = await driver.runContainer(task('warm-up'));
  held.push({ container: warm, status: await warm.wait({ signal: deadline }) });
  settle();
  await compact();
  const { rss: rssBefore, heapUsed: heapUsedBefore } = process.memoryUsage();
  const start = performance.now();
  // Memory is also read at a quarter of the way: growth between the checkpoints is
  // the marginal cost of a task, free of one-off costs (connections, compiled code).
  const quarter = Math.max(2, Math.round(count / 4));
  const checkpoints = [];
  let next = 1;
  // Runs tasks with `parallel` in flight until `limit` have been started.
  const runUntil = (limit, parallel) =>
    Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < limit) {
          const index = next++;
          const container = await driver.runContainer(task(`task-${index}`));
          const status = await container.wait({ signal: deadline });
          if (status.exitCode !== 0) throw new Error(`task ${index} ended with ${JSON.stringify(status)}`);
          held.push(keep ? { container, status } : undefined);
        }
      }),
    );
  await runUntil(quarter, Math.min(concurrency, quarter));
  settle();
  await compact();
  checkpoints.push({ count: held.length, ...pick(process.memoryUsage()) });
  await runUntil(count, concurrency);
  const runMs = performance.now() - start;
  settle();
  const burst = process.memoryUsage();
  await compact();
  const usage = process.memoryUsage();
  checkpoints.push({ count: held.length, ...pick(usage) });
  const report = {
    driver: driverName,
    count: held.length,
    rssBefore,
    heapUsedBefore,
    rssAfterBurst: burst.rss,
    heapTotalAfterBurst: burst.heapTotal,
    rssAfter: usage.rss,
    heapTotalAfter: usage.heapTotal,
    heapUsedAfter: usage.heapUsed,
    runMs,
    checkpoints,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await driver.close();
}
