import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { noopNode, startLocalCluster, type LocalCluster } from '../../k8s-server/cluster.js';

const runFile = promisify(execFile);

/** One API-only local cluster per test file, with clients bound to it. */
export interface ApiHarness {
  cluster: LocalCluster;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  apps: k8s.AppsV1Api;
  stop(): Promise<void>;
}

export async function startApiCluster(): Promise<ApiHarness> {
  const cluster = await startLocalCluster({ startNode: noopNode, bookmarkIntervalMs: 200 });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return {
    cluster,
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    async stop() {
      await cluster.stop({ removeContainers: true });
      rmSync(cluster.stateDir, { recursive: true, force: true });
    },
  };
}

export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function createNamespace(core: k8s.CoreV1Api): Promise<string> {
  const name = randomName('ns');
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export function podBody(name: string, labels: Record<string, string> = {}): k8s.V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'main', image: 'busybox:latest', command: ['sh', '-c', 'true'] }] } };
}

/** The parsed Status body of a failed client-node call. */
export async function statusOf(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string; details?: any }> {
  try {
    await call;
  } catch (error) {
    const e = error as { code?: number; body?: string };
    if (typeof e.code === 'number' && typeof e.body === 'string') return JSON.parse(e.body);
    throw error;
  }
  throw new Error('expected the call to fail');
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** kubectl against a harness's server in `namespace`, with its own cache directory (async: the server runs in this process). */
export function kubectlIn(h: ApiHarness, cacheDir: string, namespace: string): (...args: string[]) => Promise<string> {
  return async (...args) => {
    const { stdout } = await runFile('kubectl', ['--kubeconfig', h.cluster.kubeconfigPath, '-n', namespace, ...args], {
      env: { ...process.env, KUBECACHEDIR: cacheDir, KUBECONFIG: '' },
      timeout: 20_000,
    });
    return stdout;
  };
}
