import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchNamespace } from '../bench/docker-baselines.js';
import { startBenchCluster, type BenchCluster } from '../bench/k8s-bench.js';
import { measureP3 } from '../bench/p3-api-requests.js';
import { measureP4K8s } from '../bench/p4-exit-delay-k8s.js';
import { measureP7 } from '../bench/p7-k8s-roundtrip.js';
import { measureE1 } from '../bench/e1-exec-input.js';
import { measureP9 } from '../bench/p9-many-drivers.js';
import { measureScale } from '../bench/scale-k8s.js';

// The Kubernetes measures with tiny sizes, on a local cluster of their own (as the bench does).
describe('bench measures on the local Kubernetes API server, tiny sizes', () => {
  let bench: BenchCluster;
  beforeAll(async () => {
    bench = await startBenchCluster();
  });
  afterAll(async () => {
    await bench?.stop();
  });

  /** Pods of the cluster that carry one of `namespaces` as their drivetrain namespace. */
  function podsOf(namespaces: readonly string[]): string[] {
    return bench.cluster.store
      .list('pods')
      .filter((pod) => namespaces.includes(pod.metadata.labels?.['drivetrain.dev/namespace'] ?? ''))
      .map((pod) => pod.metadata.name);
  }

  it('P3 counts the API requests of the driver and of the polling baseline', async () => {
    const namespace = benchNamespace('p3');
    const [row] = await measureP3(bench, { namespace, cases: [{ seconds: 1, tasks: 1 }] });
    const driver = row!.subject.value.median;
    const polling = row!.baseline!.value.median;
    // A task needs at least a create, a log read and a delete, whoever runs it.
    expect(driver).toBeGreaterThanOrEqual(3);
    expect(polling).toBeGreaterThanOrEqual(3);
    // Polling a 1 s task every 100 ms makes several status reads.
    expect(polling).toBeGreaterThan(8);
    expect(row!.note).toMatch(/create pods 1/);
    expect(podsOf([namespace])).toEqual([]);
  });

  it('P4 measures the delay from the container exit to wait()', async () => {
    const namespace = benchNamespace('p4k');
    const [row] = await measureP4K8s(bench, { namespace, tasks: 1 });
    expect(row!.subject.value.n).toBe(1);
    expect(row!.subject.value.median).toBeGreaterThan(0);
    expect(row!.subject.value.median).toBeLessThan(30_000);
    expect(podsOf([namespace])).toEqual([]);
  });

  it('P7 compares the round trip with kubectl run', async () => {
    const namespace = benchNamespace('p7');
    const [row, floor, latency] = await measureP7(bench, { namespace, rounds: 1 });
    for (const series of [row!.subject, row!.baseline!, floor!.baseline!]) {
      expect(series.value.n).toBe(1);
      expect(series.value.median).toBeGreaterThan(1);
    }
    expect(Number.isFinite(row!.ratio)).toBe(true);
    expect(floor!.baseline!.label).toMatch(/floor/);
    // One request to a local server: more than nothing, far less than a pod's round trip.
    expect(latency!.subject.value.median).toBeGreaterThan(0);
    expect(latency!.subject.value.median).toBeLessThan(floor!.baseline!.value.median);
    expect(podsOf([namespace])).toEqual([]);
    // Room for one retried kubectl run (a hung one is given up after 30 s).
  }, 120_000);

  it('E1 compares exec input throughput, framed on 1.28 and v5 on 1.30 (clusters of its own)', async () => {
    const [row] = await measureE1({ namespace: benchNamespace('e1'), sizeMiB: 1, rounds: 1 });
    for (const series of [row!.subject, row!.baseline!]) {
      expect(series.value.n).toBe(1);
      expect(series.value.median).toBeGreaterThan(0);
    }
    expect(row!.subject.label).toMatch(/framed/);
    expect(Number.isFinite(row!.ratio)).toBe(true);
  }, 120_000);

  it('P9 counts the requests of many drivers against one, and the one watch they share', async () => {
    const [requests, watches] = await measureP9(bench, { drivers: 2, tasksPerDriver: 1, inFlight: 2 });
    // Create, log and delete per task at least, whoever runs it.
    expect(requests!.subject.value.median).toBeGreaterThanOrEqual(3);
    expect(requests!.baseline!.value.median).toBeGreaterThanOrEqual(3);
    expect(requests!.note).toMatch(/closing the 2 drivers/);
    // One owner Lease for the process: the two drivers create one, as one driver does.
    expect(requests!.note).toMatch(/^2 drivers: create leases 1, /);
    expect(watches!.subject.value.median).toBe(1);
    expect(watches!.target!.met).toBe(true);
  }, 120_000);

  it('Scale reads requests per task and memory at each checkpoint, and counts failed tasks', async () => {
    const [requests, memory] = await measureScale(bench, { tasks: 4, inFlight: 2, checkpoints: [2] });
    expect(requests!.subject.label).toBe('tasks 3–4');
    expect(requests!.baseline!.label).toBe('tasks 1–2');
    expect(requests!.subject.value.median).toBeGreaterThanOrEqual(3);
    expect(requests!.note).toMatch(/^no error/);
    expect(memory!.subject.value.median).toBeGreaterThan(10);
    expect(memory!.subject.label).toBe('driver process after 4 tasks');
  }, 120_000);
});
