import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchV1Api, CoreV1Api, KubeConfig, Watch, type V1Job, type V1Pod } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { LABELS } from '../../src/labels.js';

/**
 * Runs the example programs of examples/ as their users do — `node examples/<name>/main.ts`,
 * importing the package by its own name (`drivetrain`, resolved through package.json
 * "exports" to the built dist) — and reads what they leave behind.
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The deadline of one example's test: a few runs of its program, each bounded by
 * {@link runExample}'s own timeout, on a machine that may be loaded many times over.
 */
export const EXAMPLE_TIMEOUT_MS = 240_000;

/** How a program ended and what it printed. */
export interface ProgramRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `examples/<example>/<program>` on this Node with `args`; `env` is added to this process's environment. */
export function runExample(example: string, args: readonly string[], env: Record<string, string> = {}, options: { program?: string; timeoutMs?: number; input?: string } = {}): Promise<ProgramRun> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('the compiled build is missing: run `make build` (make test does)');
  const file = join(ROOT, 'examples', example, options.program ?? 'main.ts');
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: options.timeoutMs ?? 150_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

const docker = new Dockerode();

/** Docker containers and volumes labelled with the drivetrain namespace, as `kind/name`. */
export async function dockerLeftovers(namespace: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABELS.namespace}=${namespace}`] });
  const [containers, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listVolumes({ filters })]);
  return [...containers.map((c) => `container/${c.Names[0]}`), ...(volumes.Volumes ?? []).map((v) => `volume/${v.Name}`)];
}

/** Pods, Jobs, claims and Secrets labelled with the drivetrain namespace, in every Kubernetes namespace, as `kind/namespace/name`. */
export async function clusterLeftovers(kubeconfig: string, namespace: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const labelSelector = `${LABELS.namespace}=${namespace}`;
  const lists = await Promise.all([
    core.listPodForAllNamespaces({ labelSelector }).then((list) => ['pod', list.items] as const),
    batch.listJobForAllNamespaces({ labelSelector }).then((list) => ['job', list.items] as const),
    core.listPersistentVolumeClaimForAllNamespaces({ labelSelector }).then((list) => ['claim', list.items] as const),
    core.listSecretForAllNamespaces({ labelSelector }).then((list) => ['secret', list.items] as const),
  ]);
  return lists.flatMap(([kind, items]) => items.map((item) => `${kind}/${item.metadata?.namespace}/${item.metadata?.name}`));
}

/** The result of one kubectl run. */
export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl (1.32, installed) with `kubeconfig` and a discovery cache of its own, as an operator would. */
export function kubectl(kubeconfig: string, args: readonly string[], options: { input?: string } = {}): Promise<KubectlRun> {
  const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dirname(kubeconfig), 'kubectl-cache') };
  return new Promise((resolve) => {
    const child = execFile('kubectl', [...args], { env, timeout: 45_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** Every Job and pod created in a Kubernetes namespace while `during` runs, as a watch delivers them. */
export async function watchCreated<T>(kubeconfig: string, k8sNamespace: string, during: () => Promise<T>): Promise<{ result: T; jobs: V1Job[]; pods: V1Pod[] }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const jobs = new Map<string, V1Job>();
  const pods = new Map<string, V1Pod>();
  const watch = new Watch(kc);
  const collect = <O extends { metadata?: { uid?: string } }>(into: Map<string, O>) => (type: string, object: O) => {
    if (type === 'ADDED' && object.metadata?.uid !== undefined) into.set(object.metadata.uid, object);
  };
  const ignore = () => {};
  const watches = await Promise.all([
    watch.watch(`/apis/batch/v1/namespaces/${k8sNamespace}/jobs`, {}, collect(jobs), ignore),
    watch.watch(`/api/v1/namespaces/${k8sNamespace}/pods`, {}, collect(pods), ignore),
  ]);
  try {
    const result = await during();
    return { result, jobs: [...jobs.values()], pods: [...pods.values()] };
  } finally {
    for (const each of watches) each.abort();
  }
}
