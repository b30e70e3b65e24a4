import { describe, expect, it } from 'vitest';
import { measureP1 } from '../bench/p1-roundtrip.js';
import { measureP2 } from '../bench/p2-concurrent.js';
import { measureP4Docker } from '../bench/p4-exit-delay.js';
import { measureP5 } from '../bench/p5-log-throughput.js';
import { measureP6 } from '../bench/p6-memory.js';
import { measureP9Docker } from '../bench/p9-docker-owner.js';
import type { BenchRow } from '../bench/row.js';
import Dockerode from 'dockerode';
import { benchNamespace } from '../bench/docker-baselines.js';

/** Every figure of a row is a finite, positive number, median within min–max. */
function expectSane(row: BenchRow): void {
  for (const series of [row.subject, row.baseline]) {
    if (series === undefined) continue;
    const { median, min, max, n } = series.value;
    expect(n).toBeGreaterThan(0);
    expect(Number.isFinite(median) && median > 0).toBe(true);
    expect(min).toBeLessThanOrEqual(median);
    expect(median).toBeLessThanOrEqual(max);
  }
  if (row.ratio !== undefined) expect(Number.isFinite(row.ratio) && row.ratio > 0).toBe(true);
}

// The measures with tiny sizes: they must run and produce sane numbers (targets are not asserted).
describe('bench measures on Docker, tiny sizes', () => {
  const namespaces = ['p1', 'p2', 'p4', 'p5'].map((m) => benchNamespace(m));
  const [ns1, ns2, ns4, ns5] = namespaces;

  it('P1 compares the round trip with the CLI and the bare sequence', async () => {
    const rows = await measureP1({ namespace: ns1, sequential: 1, concurrency: [2], batches: 1 });
    expect(rows.map((r) => r.scale)).toEqual(['1 in sequence', '1 in sequence', '1 in sequence', '2 at once']);
    expect(rows.map((r) => r.baseline?.label)).toEqual(['docker run --rm (CLI)', 'bare dockerode sequence', 'floor: engine create → start → wait', 'bare dockerode sequence']);
    rows.forEach(expectSane);
    // A Docker round trip cannot take less than a millisecond or more than a minute.
    expect(rows[0]!.subject.value.median).toBeGreaterThan(1);
    expect(rows[0]!.subject.value.median).toBeLessThan(60_000);
  });

  it('P2 runs tasks at once against as many CLI runs', async () => {
    const rows = await measureP2({ namespace: ns2, tasks: 2, batches: 1 });
    expect(rows).toHaveLength(1);
    rows.forEach(expectSane);
  });

  it('P4 measures the delay from the exit event to wait()', async () => {
    const [row] = await measureP4Docker({ namespace: ns4, tasks: 1 });
    expect(row!.subject.value.n).toBe(1);
    // The delay is positive (wait resolves after the exit) and well under the task's own length.
    expect(row!.subject.value.median).toBeGreaterThan(0);
    expect(row!.subject.value.median).toBeLessThan(10_000);
  });

  it('P5 reads the whole log through both paths', async () => {
    const rows = await measureP5({ namespace: ns5, sizesMiB: [0.25], rounds: 1 });
    expect(rows.map((r) => r.unit)).toEqual(['MiB/s']);
    rows.forEach(expectSane);
  });

  it('P6 reports the resident memory of a child holding finished tasks', async () => {
    const [row] = await measureP6('docker', { target: 10, tasks: 3, concurrency: 2 });
    expectSane(row!);
    // A Node process with a driver loaded occupies some tens of MiB, never less than 10.
    expect(row!.subject.value.median).toBeGreaterThan(10);
    expect(row!.subject.label).toMatch(/extrapolated/);
    expect(row!.note).toMatch(/^3 real tasks held/);
  });

  it('P6 also measures the native driver', async () => {
    const [row] = await measureP6('native', { target: 5, concurrency: 2 });
    expectSane(row!);
    expect(row!.subject.label).not.toMatch(/extrapolated/);
  });

  it('P9d counts the owner records’ engine calls of many idle drivers against one', async () => {
    const [row] = await measureP9Docker({ drivers: 3, leaseSeconds: 1, periods: 2 });
    // Calls over a window of time: on a loaded machine a renewal may fall outside so short a one.
    expect(row!.subject.value.median).toBeGreaterThanOrEqual(0);
    expect(row!.unit).toBe('calls/renewal');
    // Opening made the volumes and the owner records.
    expect(row!.note).toMatch(/Opening \(a volume each\): POST \/volumes\/create \d+/);
  });

  it('leaves nothing behind', async () => {
    const docker = new Dockerode();
    for (const namespace of namespaces) {
      const left = await docker.listContainers({ all: true, filters: { label: [`drivetrain.dev/namespace=${namespace}`] } });
      expect(left.map((c) => c.Names[0]), namespace).toEqual([]);
    }
  });
});
