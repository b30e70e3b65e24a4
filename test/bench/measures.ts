import { measureI1 } from './i1-import.js';
import { measureP1 } from './p1-roundtrip.js';
import { measureP2 } from './p2-concurrent.js';
import { measureP4Docker } from './p4-exit-delay.js';
import { measureP5 } from './p5-log-throughput.js';
import { measureP6 } from './p6-memory.js';
import { measureP3 } from './p3-api-requests.js';
import { measureP4K8s } from './p4-exit-delay-k8s.js';
import { measureP7 } from './p7-k8s-roundtrip.js';
import { measureE1 } from './e1-exec-input.js';
import { CLI_MEASURES } from './p8-measures.js';
import { measureP9 } from './p9-many-drivers.js';
import { measureP9Docker } from './p9-docker-owner.js';
import { measureScale } from './scale-k8s.js';
import { measureO1 } from './o1-orphans.js';
import type { BenchCluster } from './k8s-bench.js';
import type { BenchRow } from './row.js';

/** What the measures share in one run. */
export interface BenchEnv {
  /** The local Kubernetes cluster, started on first use (once per run). */
  cluster(): Promise<BenchCluster>;
}

/** A measure as `main.ts` runs it: full sizes, or quick ones. */
export interface MeasureEntry {
  id: string;
  title: string;
  full(env: BenchEnv): Promise<BenchRow[]>;
  quick(env: BenchEnv): Promise<BenchRow[]>;
}

/** Every measure, in report order. */
export const MEASURES: readonly MeasureEntry[] = [
  {
    id: 'I1',
    title: 'import time and memory of drivetrain/k8s and drivetrain/docker',
    full: () => measureI1(),
    quick: () => measureI1({ rounds: 3 }),
  },
  {
    id: 'P1',
    title: 'Docker round trip vs CLI and bare dockerode',
    full: () => measureP1(),
    quick: () => measureP1({ sequential: 5, concurrency: [1, 10], batches: 1 }),
  },
  {
    id: 'P2',
    title: '50 tasks at once vs 50 docker run',
    full: () => measureP2(),
    quick: () => measureP2({ tasks: 10, batches: 1 }),
  },
  {
    id: 'P3',
    title: 'Kubernetes API requests per task vs polling',
    full: async (env) => measureP3(await env.cluster()),
    quick: async (env) => measureP3(await env.cluster(), { cases: [{ seconds: 1, tasks: 1 }, { seconds: 1, tasks: 5 }, { seconds: 3, tasks: 5 }] }),
  },
  {
    id: 'P4',
    title: 'exit → wait() delay (Docker)',
    full: () => measureP4Docker(),
    quick: () => measureP4Docker({ tasks: 5 }),
  },
  {
    id: 'P4',
    title: 'exit → wait() delay (Kubernetes)',
    full: async (env) => measureP4K8s(await env.cluster()),
    quick: async (env) => measureP4K8s(await env.cluster(), { tasks: 3 }),
  },
  {
    id: 'P5',
    title: 'follow-log throughput vs docker logs -f',
    full: () => measureP5(),
    quick: () => measureP5({ sizesMiB: [5], rounds: 2 }),
  },
  {
    id: 'P6',
    title: 'memory of 1000 finished Docker tasks',
    full: () => measureP6('docker'),
    quick: () => measureP6('docker', { target: 50 }),
  },
  {
    id: 'P6',
    title: 'memory of 1000 finished native tasks',
    full: () => measureP6('native'),
    quick: () => measureP6('native', { target: 200 }),
  },
  {
    id: 'P6k',
    title: 'memory of 1000 finished Kubernetes tasks',
    full: async (env) => measureP6('k8s', { id: 'P6k', limitMB: 150, env: { ...process.env, KUBECONFIG: (await env.cluster()).cluster.kubeconfigPath } }),
    quick: async (env) => measureP6('k8s', { id: 'P6k', limitMB: 150, target: 50, env: { ...process.env, KUBECONFIG: (await env.cluster()).cluster.kubeconfigPath } }),
  },
  {
    id: 'P7',
    title: 'Kubernetes round trip vs kubectl run',
    full: async (env) => measureP7(await env.cluster()),
    quick: async (env) => measureP7(await env.cluster(), { rounds: 2 }),
  },
  ...CLI_MEASURES,
  {
    id: 'E1',
    title: 'exec input throughput: framed (v4, 1.28) vs v5 (1.30)',
    full: () => measureE1(),
    quick: () => measureE1({ sizeMiB: 4, rounds: 2 }),
  },
  {
    id: 'P9',
    title: 'many Kubernetes drivers in one process vs one driver',
    full: async (env) => measureP9(await env.cluster()),
    quick: async (env) => measureP9(await env.cluster(), { drivers: 10, tasksPerDriver: 3, inFlight: 10 }),
  },
  {
    id: 'P9d',
    title: 'owner records of many Docker drivers in one process vs one driver',
    full: () => measureP9Docker(),
    quick: () => measureP9Docker({ drivers: 10, periods: 3 }),
  },
  {
    id: 'Scale',
    title: '1000 Kubernetes tasks through one driver, 50 at a time',
    full: async (env) => measureScale(await env.cluster()),
    quick: async (env) => measureScale(await env.cluster(), { tasks: 60, inFlight: 10, checkpoints: [20] }),
  },
  {
    id: 'O1',
    title: 'orphans reaped after a SIGKILL, and the first task of the reaping driver',
    full: async (env) => measureO1(await env.cluster()),
    quick: async (env) => measureO1(await env.cluster(), { rounds: 2 }),
  },
];
