import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, VersionApi, Watch, type V1Pod } from '@kubernetes/client-node';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { LABELS } from '../../src/labels.js';
import { CollectingWritable } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { BENCH_IMAGE, runProcess, taskId } from './docker-baselines.js';

/**
 * The Kubernetes side of the bench: one local API server (the project's own, running
 * pods on the Docker engine), the driver on it, kubectl with its own cache directory,
 * and the baseline client that polls the pod's status every 100 ms.
 */
export interface BenchCluster {
  readonly cluster: LocalCluster;
  /** The Kubernetes namespace the tasks run in. */
  readonly kubernetesNamespace: string;
  /** kubectl with `--kubeconfig` and a fresh `KUBECACHEDIR`. */
  kubectl(args: readonly string[], timeoutMs?: number): ReturnType<typeof runProcess>;
  /** Stops the server (removing its containers) and deletes kubectl's cache. */
  stop(): Promise<void>;
}

/** Starts a local cluster for the bench. */
export async function startBenchCluster(): Promise<BenchCluster> {
  const cluster = await startLocalCluster(DRIVER_CLUSTER);
  const cacheDir = mkdtempSync(join(tmpdir(), 'drivetrain-bench-kubecache-'));
  const env = { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: cluster.kubeconfigPath };
  return {
    cluster,
    kubernetesNamespace: 'default',
    kubectl: (args, timeoutMs = 60_000) => runProcess('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], timeoutMs, env),
    async stop() {
      await cluster.stop({ removeContainers: true });
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(cluster.stateDir, { recursive: true, force: true });
    },
  };
}

/** A Kubernetes driver on the bench cluster; close it when done. */
export async function benchK8sDriver(bench: BenchCluster, namespace: string): Promise<Driver> {
  return createK8sDriver({ namespace, kubeconfig: bench.cluster.kubeconfigPath, kubernetesNamespace: bench.kubernetesNamespace });
}

/** One task through the driver: run → wait → logs → cleanup; checks the exit code and, when given, the output. */
export async function driverTask(driver: Driver, command: readonly string[], expected?: string): Promise<void> {
  const container = await driver.runContainer({ id: taskId('k8s'), image: BENCH_IMAGE, command });
  try {
    const status = await container.wait({ signal: AbortSignal.timeout(120_000) });
    if (status.exitCode !== 0) throw new Error(`the task ended with ${JSON.stringify(status)}`);
    const stdout = new CollectingWritable();
    await container.logs({ stdout, signal: AbortSignal.timeout(60_000) });
    if (expected !== undefined && stdout.text() !== expected) throw new Error(`the task printed ${JSON.stringify(stdout.text())}`);
  } finally {
    await container.cleanup();
  }
}

const POLL_MS = 100;

function coreApi(bench: BenchCluster): { kc: KubeConfig; api: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromFile(bench.cluster.kubeconfigPath);
  return { kc, api: kc.makeApiClient(CoreV1Api) };
}

function podBody(name: string, namespace: string, command: readonly string[]): V1Pod {
  return {
    metadata: { name, labels: { [LABELS.managed]: 'true', [LABELS.namespace]: namespace, [LABELS.role]: 'task' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: BENCH_IMAGE, command: [...command] }] },
  };
}

/**
 * The same task the way a simple CI runner does it (pocketci): create the pod, GET its
 * status every 100 ms until it has ended, read the log, delete the pod. Its pods carry
 * the drivetrain labels of `namespace` so a driver's close reaps any leftover.
 */
export async function pollingTask(bench: BenchCluster, namespace: string, command: readonly string[]): Promise<void> {
  const { api } = coreApi(bench);
  const ns = bench.kubernetesNamespace;
  const name = `poll-${taskId('t').slice(2)}`;
  await api.createNamespacedPod({ namespace: ns, body: podBody(name, namespace, command) });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pod = await api.readNamespacedPod({ name, namespace: ns });
      const phase = pod.status?.phase;
      if (phase === 'Succeeded') break;
      if (phase === 'Failed') throw new Error(`the polled pod failed: ${JSON.stringify(pod.status?.containerStatuses?.[0]?.state)}`);
      if (Date.now() > deadline) throw new Error('the polled pod did not end within 120 s');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
    }
    await api.readNamespacedPodLog({ name, namespace: ns });
  } finally {
    await api.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
  }
}

/** Total requests the server counted since its last reset, and the series that make it up. */
export function requestCounts(bench: BenchCluster): { total: number; breakdown: string } {
  const series = bench.cluster.metrics.snapshot().filter((s) => s.count > 0);
  const total = series.reduce((sum, s) => sum + s.count, 0);
  const breakdown = series
    .map((s) => `${s.verb} ${s.resource}${s.subresource === '' ? '' : `/${s.subresource}`} ${s.count}`)
    .sort()
    .join(', ');
  return { total, breakdown };
}

/**
 * The floor of a Kubernetes round trip: the fewest requests a client can make — create
 * the pod, watch it (one request) until it has ended, read the log, delete it — with
 * no checks beyond the exit code. Returns the output.
 */
export async function watchingTask(bench: BenchCluster, namespace: string, command: readonly string[]): Promise<string> {
  const { kc, api } = coreApi(bench);
  const ns = bench.kubernetesNamespace;
  const name = `watch-${taskId('t').slice(2)}`;
  const ended = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the watched pod did not end within 120 s')), 120_000);
    timer.unref();
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (error: Error | undefined, phase?: string): void => {
      // Aborting the watch calls its done callback (with an AbortError): settle first.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) reject(error);
      else resolve(phase ?? '');
      controller?.abort();
    };
    new Watch(kc)
      .watch(`/api/v1/namespaces/${ns}/pods`, { fieldSelector: `metadata.name=${name}` }, (_type, pod: V1Pod) => {
        const phase = pod.status?.phase;
        if (phase === 'Succeeded' || phase === 'Failed') finish(undefined, phase);
      }, (error: unknown) => {
        if (error) finish(error as Error);
      })
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (error: unknown) => finish(error as Error),
      );
  });
  await api.createNamespacedPod({ namespace: ns, body: podBody(name, namespace, command) });
  try {
    const phase = await ended;
    if (phase !== 'Succeeded') throw new Error(`the watched pod ended ${phase}`);
    return await api.readNamespacedPodLog({ name, namespace: ns });
  } finally {
    await api.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
  }
}

/** Times of `n` cheap requests to the API server (GET /version) through client-node, in ms. */
export async function apiLatencies(bench: BenchCluster, n: number): Promise<number[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(bench.cluster.kubeconfigPath);
  const api = kc.makeApiClient(VersionApi);
  await api.getCode();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await api.getCode();
    times.push(performance.now() - start);
  }
  return times;
}
