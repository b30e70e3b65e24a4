import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createDriver } from '../../src/index.js';
import { LABELS } from '../../src/labels.js';
import type { Driver } from '../../src/types.js';
import { BENCH_IMAGE, benchNamespace, engineClient, taskId } from './docker-baselines.js';
import type { BenchCluster } from './k8s-bench.js';
import type { BenchRow } from './row.js';
import { since, summarize } from './stats.js';
import { leaseExpired, leasesNaming } from '../support/owner-leases.js';

/** Sizes of O1. */
export interface O1Options {
  /** Orphans made and reaped per driver. @default 5 */
  rounds?: number;
  /** The owner Lease of the killed process on Kubernetes, in seconds. @default 5 */
  leaseSeconds?: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POLL_MS = 50;

type DriverName = 'docker' | 'native' | 'k8s';

/**
 * O1 — orphans reaped. Per round: a process owns a namespace with a running `sleep 300`
 * task and is SIGKILLed; as soon as the namespace is reapable (at once on docker and native,
 * where the owner's pid is looked at; on Kubernetes once its Lease expired) a new driver is
 * opened and runs an `echo` task. Measured: from that driver's creation to the orphan's last
 * object gone (the reap, in the background), and the new driver's first task (run → wait)
 * against the same task of a driver opened with `reapOrphans: false`, interleaved.
 */
export async function measureO1(bench: BenchCluster, options: O1Options = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 5;
  const leaseSeconds = options.leaseSeconds ?? 5;
  const rows: BenchRow[] = [];
  for (const name of ['docker', 'native', 'k8s'] as const) {
    const driverOptions = name === 'k8s' ? { kubeconfig: bench.cluster.kubeconfigPath, kubernetesNamespace: bench.kubernetesNamespace } : {};
    const reapMs: number[] = [];
    const firstTaskMs: number[] = [];
    const plainFirstTaskMs: number[] = [];
    const killToGoneMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const orphan = benchNamespace(`o1-${name}`);
      const killedAt = await killedOwner(name, orphan, { ...driverOptions, ownerLeaseSeconds: leaseSeconds });
      if (name === 'k8s') await until(() => ownerExpired(bench, orphan), 120_000);
      const opened = performance.now();
      const reaper = await createDriver(name, { ...driverOptions, namespace: benchNamespace('o1-reaper') });
      const gone = until(() => namespaceGone(name, orphan, bench), 120_000).then(() => since(opened));
      try {
        firstTaskMs.push(await firstTask(reaper));
        reapMs.push(await gone);
        killToGoneMs.push(Date.now() - killedAt);
      } finally {
        await reaper.close();
      }
      const plain = await createDriver(name, { ...driverOptions, namespace: benchNamespace('o1-plain'), reapOrphans: false });
      try {
        plainFirstTaskMs.push(await firstTask(plain));
      } finally {
        await plain.close();
      }
    }
    const reap = summarize(reapMs);
    const first = summarize(firstTaskMs);
    const plain = summarize(plainFirstTaskMs);
    rows.push({
      id: 'O1',
      scale: `${rounds} orphans (${name})`,
      unit: 'ms',
      subject: { label: 'driver opened → orphan gone', value: reap },
      note: name === 'k8s' ? `from the Lease's expiry on (${leaseSeconds} s after the killed owner's last renewal); SIGKILL → gone ${Math.round(summarize(killToGoneMs).median)} ms median` : `from the SIGKILL: ${Math.round(summarize(killToGoneMs).median)} ms median (owner process dead on this host: reapable at once)`,
    });
    rows.push({
      id: 'O1',
      scale: `${rounds} first tasks (${name})`,
      unit: 'ms',
      subject: { label: 'first task while the reap runs', value: first },
      baseline: { label: 'first task, reapOrphans: false', value: plain },
      ratio: first.median / plain.median,
      note: 'run → wait of `echo` by the driver just opened; the reap runs in the background',
    });
  }
  return rows;
}

/** Starts an owner process with a running task and SIGKILLs it; resolves with the kill's time. */
async function killedOwner(name: DriverName, namespace: string, options: Record<string, unknown>): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/orphan-owner.ts', name, namespace, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until(async () => output.includes('running\n') || child.exitCode !== null, 120_000);
    if (!output.includes('running\n')) throw new Error(`the owner process did not start its task: ${output}`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return Date.now();
}

async function firstTask(driver: Driver): Promise<number> {
  const started = performance.now();
  const container = await driver.runContainer({ id: taskId('o1'), image: BENCH_IMAGE, command: ['echo', 'hello'] });
  const status = await container.wait({ signal: AbortSignal.timeout(120_000) });
  if (status.exitCode !== 0) throw new Error(`the first task ended with ${JSON.stringify(status)}`);
  return since(started);
}

async function namespaceGone(name: DriverName, namespace: string, bench: BenchCluster): Promise<boolean> {
  if (name === 'native') return !existsSync(join(tmpdir(), 'drivetrain-native', namespace));
  if (name === 'docker') {
    const filters = { label: [`${LABELS.namespace}=${namespace}`] };
    const docker = engineClient();
    const [containers, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listVolumes({ filters })]);
    return containers.length + (volumes.Volumes ?? []).length === 0;
  }
  const pods = await kubeClient(bench).makeApiClient(CoreV1Api).listNamespacedPod({ namespace: bench.kubernetesNamespace, labelSelector: `${LABELS.namespace}=${namespace}` });
  return pods.items.length === 0;
}

/** Every Lease naming the orphan (its killed owner's) has expired. */
async function ownerExpired(bench: BenchCluster, namespace: string): Promise<boolean> {
  return (await leasesNaming(bench.cluster.kubeconfigPath, bench.kubernetesNamespace, namespace)).every(leaseExpired);
}

function kubeClient(bench: BenchCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(bench.cluster.kubeconfigPath);
  return kc;
}

async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`O1: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
