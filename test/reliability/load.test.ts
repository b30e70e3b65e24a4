import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLogs } from '../../src/logs.js';
import type { Container, Driver } from '../../src/types.js';
import { ALL_DRIVERS, DOCKER, K8S, NATIVE, openDriver, randomId, sh, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';

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
    const namespace = testNamespace('rl');
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
  { under: K8S, count: 200, lanes: 10, timeoutMs: 400_000 },
];

describe.each(MANY)('many tasks through one $under.name driver', ({ under, count, lanes, timeoutMs }) => {
  it(`${count} tasks, ${lanes} at a time: every exit code and log line is right, each task removed after`, { timeout: timeoutMs }, async () => {
    const namespace = testNamespace('rm');
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
 * 100 MB of output followed into a counting Writable. NUL bytes without any newline: one
 * line that Docker's json-file (like a kubelet) cuts into 16 KiB records, each delivered as
 * it completes. On k8s also 100 MB of 71-byte lines: 1.4 million lines, each with its own
 * timestamp through the follow's de-duplication. The local API server serves pods/log at
 * Docker's own pace (`docker logs` reads these logs at 5 to 15 MB/s here). The k8s driver
 * reads NUL output twice: its last read after the follow starts at the last timestamp, and
 * Docker stamps every record of a line with the line's time, so the whole line comes again.
 * Alone on the 2-core machine: Docker ~8 s, k8s NUL ~15 s, k8s lines ~15 to 20 s; in the
 * full suite (3 files at a time): 19 s, 35 s, 75 s.
 */
const FLOODS: ReadonlyArray<{ under: DriverUnderTest; output: string; script: string; bytes: number; nonZero: boolean; timeoutMs: number }> = [
  { under: DOCKER, output: 'NUL bytes without newline', script: 'head -c 100000000 /dev/zero', bytes: 100_000_000, nonZero: false, timeoutMs: 100_000 },
  { under: K8S, output: 'NUL bytes without newline', script: 'head -c 100000000 /dev/zero', bytes: 100_000_000, nonZero: false, timeoutMs: 180_000 },
  { under: K8S, output: '71-byte lines', script: 'yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 100000000', bytes: 100_000_000, nonZero: true, timeoutMs: 240_000 },
];

describe.each(FLOODS)('output flood on $under.name: $output', ({ under, script, bytes, nonZero, timeoutMs }) => {
  it(`${bytes / 1_000_000} MB of output is delivered completely to a counting Writable, streamed`, { timeout: timeoutMs }, async () => {
    const driver = openDriver(under);
    // Room for a machine shared with the rest of the suite (see the times above).
    const signal = AbortSignal.timeout(timeoutMs - 20_000);
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
