import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../k8s-server/api.js';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../k8s-server/cluster.js';
import { runDockerLabels } from '../../setup/test-run.js';

/** The result of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A local cluster plus a kubectl bound to it (own kubeconfig and discovery cache). */
export interface TestCluster {
  cluster: LocalCluster;
  namespace: string;
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts kubectl and returns the process (for -w / -f). */
  spawnKubectl(args: string[]): ReturnType<typeof spawn>;
  /** The kubectl command line for `args` and the environment it needs (to run it elsewhere: on a terminal). */
  kubectlCommand(args: string[]): { argv: string[]; env: Record<string, string> };
  /** Creates a namespaced object through the store, with the API server's defaults applied by kubectl-free JSON. */
  apply(object: Record<string, unknown>): Promise<void>;
  waitFor(resource: string, name: string, test: (o: KObject | undefined) => boolean, timeoutMs?: number): Promise<KObject | undefined>;
  stop(): Promise<void>;
}

export const randomName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function startTestCluster(options: LocalClusterOptions = {}): Promise<TestCluster> {
  const cluster = await startLocalCluster({ dockerLabels: runDockerLabels(), ...options });
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubecache-'));
  const namespace = randomName('node');
  const env = { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' };
  const kubectl: TestCluster['kubectl'] = (args, options = {}) =>
    new Promise((resolve) => {
      const child = execFile('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', namespace, ...args], { env, timeout: options.timeoutMs ?? 45_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  const kubectlCommand = (args: string[]) => ({ argv: ['kubectl', '--kubeconfig', cluster.kubeconfigPath, '-n', namespace, ...args], env: { KUBECACHEDIR: cacheDir, KUBECONFIG: '' } });
  const spawnKubectl = (args: string[]) => spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, '-n', namespace, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const apply = async (object: Record<string, unknown>) => {
    const result = await kubectl(['create', '--validate=false', '-f', '-'], { input: JSON.stringify(object) });
    if (result.code !== 0) throw new Error(`kubectl create failed: ${result.stderr}`);
  };
  // As JSON: kubectl's generators (`create namespace|job|deployment`) send protobuf, which the local server does not read.
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const waitFor: TestCluster['waitFor'] = (resource, name, test, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const store = cluster.store;
      let finished = false;
      const check = () => {
        if (finished) return;
        const object = store.get(resource, namespace, name);
        if (!test(object)) return;
        finished = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(object);
      };
      const unsubscribe = store.subscribe(() => queueMicrotask(check));
      const timer = setTimeout(() => {
        finished = true;
        unsubscribe();
        reject(new Error(`timed out waiting for ${resource} ${name}: ${JSON.stringify(store.get(resource, namespace, name)?.status)}`));
      }, timeoutMs);
      check();
    });
  return {
    cluster,
    namespace,
    kubectl,
    spawnKubectl,
    kubectlCommand,
    apply,
    waitFor,
    async stop() {
      await cluster.stop({ removeContainers: true });
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(cluster.stateDir, { recursive: true, force: true });
    },
  };
}

/** A minimal pod manifest running busybox (present locally, never pulled). */
export function busyboxPod(name: string, script: string, extra: { spec?: Record<string, unknown>; container?: Record<string, unknown>; labels?: Record<string, string> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...(extra.container ?? {}) }],
      ...(extra.spec ?? {}),
    },
  };
}

export const containerState = (o: KObject | undefined): any => o?.status?.containerStatuses?.[0]?.state;
export const isFinished = (o: KObject | undefined): boolean => o?.status?.phase === 'Succeeded' || o?.status?.phase === 'Failed';
