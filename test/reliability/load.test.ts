import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLogs } from '../../src/logs.js';
import type { Container, Driver } from '../../src/types.js';
import { ALL_DRIVERS, DOCKER, K8S, NATIVE, openDriver, randomId, randomNamespace, sh, type DriverUnderTest } from './drivers.js';

/** Runs `work` over `items`, at most `limit` at a time. */
async function boundedAll<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Counts bytes and keeps nothing. */
class CountingWritable extends Writable {
  bytes = 0;
  nonZero = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    for (const byte of chunk) if (byte !== 0) this.nonZero++;
    callback();
  }
}

describe.each(ALL_DRIVERS)('load on $name', (under: DriverUnderTest) => {
  it('20 concurrent runContainer calls with one task ID make exactly one container; all handles agree', { timeout: 180_000 }, async () => {
    const namespace = randomNamespace('rl');
    const driver = openDriver(under, namespace);
    const signal = AbortSignal.timeout(under.budgetMs * 2);
    const id = randomId('same');
    const task = { id, image: 'busybox', command: sh('echo "run $(head -c 8 /dev/urandom | od -An -tx1 | tr -d \' \\n\')"; exit 3') };
    const containers = await Promise.all(Array.from({ length: 20 }, () => driver.runContainer(task, { signal })));
    expect(await under.countTasks(namespace)).toBe(1);
    const statuses = await Promise.all(containers.map((c) => c.wait({ signal })));
    for (const status of statuses) expect(status).toMatchObject({ done: true, exitCode: 3 });
    const outputs = await Promise.all(containers.map(async (c) => (await readLogs(c, { signal })).stdout));
    expect(new Set(outputs).size).toBe(1);
    expect(outputs[0]).toMatch(/^run [0-9a-f]{16}\n$/);
    expect(await under.countTasks(namespace)).toBe(1);
  });
});

const MANY: ReadonlyArray<{ under: DriverUnderTest; count: number; lanes: number; timeoutMs: number }> = [
  { under: DOCKER, count: 200, lanes: 10, timeoutMs: 400_000 },
  { under: NATIVE, count: 200, lanes: 10, timeoutMs: 200_000 },
  { under: K8S, count: 50, lanes: 10, timeoutMs: 400_000 },
];

describe.each(MANY)('many tasks through one $under.name driver', ({ under, count, lanes, timeoutMs }) => {
  it(`${count} tasks, ${lanes} at a time: every exit code and log line is right, each task removed after`, { timeout: timeoutMs }, async () => {
    const namespace = randomNamespace('rm');
    const driver: Driver = openDriver(under, namespace);
    const signal = AbortSignal.timeout(timeoutMs - 20_000);
    const indexes = Array.from({ length: count }, (_, i) => i);
    const wrong: string[] = [];
    await boundedAll(indexes, lanes, async (i) => {
      const container: Container = await driver.runContainer({ id: `many-${i}`, image: 'busybox', command: sh(`echo "task ${i} out"; echo "task ${i} err" >&2; exit $((${i} % 7))`) }, { signal });
      const status = await container.wait({ signal });
      const { stdout, stderr } = await readLogs(container, { signal });
      if (status.exitCode !== i % 7 || !status.done) wrong.push(`${i}: status ${JSON.stringify(status)}`);
      if (stdout !== `task ${i} out\n` || stderr !== `task ${i} err\n`) wrong.push(`${i}: logs ${JSON.stringify({ stdout, stderr })}`);
      await container.cleanup({ signal });
    });
    expect(wrong).toEqual([]);
    expect(await under.countTasks(namespace)).toBe(0);
  });
});

/**
 * Docker: 100 MB of NUL bytes (no newline at all). k8s: 10 MB of 71-byte lines — the local
 * API server serves follow logs at well under 1 MB/s here, and newline-less output does not
 * get through the k8s follow path at all (see docs/reliability.md, driver bugs).
 */
const FLOODS: ReadonlyArray<{ under: DriverUnderTest; script: string; bytes: number; nonZero: boolean }> = [
  { under: DOCKER, script: 'head -c 100000000 /dev/zero', bytes: 100_000_000, nonZero: false },
  { under: K8S, script: 'yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 10000000', bytes: 10_000_000, nonZero: true },
];

describe.each(FLOODS)('output flood on $under.name', ({ under, script, bytes, nonZero }) => {
  it(`${bytes / 1_000_000} MB of output is delivered completely to a counting Writable, streamed`, { timeout: 100_000 }, async () => {
    const driver = openDriver(under);
    // 25 s for 100 MB on an idle machine; room for a machine shared with other suites.
    const signal = AbortSignal.timeout(80_000);
    const container = await driver.runContainer({ id: randomId('flood'), image: 'busybox', command: sh(script) }, { signal });
    const stdout = new CountingWritable();
    const heapBefore = process.memoryUsage().heapUsed;
    await container.logs({ stdout, follow: true, signal });
    expect(stdout.bytes).toBe(bytes);
    expect(stdout.nonZero > 0).toBe(nonZero);
    // Streamed, not buffered whole: the heap did not grow by anything near the output's size.
    if (bytes >= 50_000_000) expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(bytes * 0.6);
    expect(await container.wait({ signal })).toMatchObject({ done: true, exitCode: 0 });
  });
});
