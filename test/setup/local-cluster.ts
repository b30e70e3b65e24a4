import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../k8s-server/cluster.js';
import { runDockerLabels } from './test-run.js';

/**
 * A local cluster of its own for one test file, of any profile (`{ kubeVersion: '1.28' }`,
 * `{ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' }`, …). Await it at
 * the file's top level, so its kubeconfig is there when describe blocks register (the
 * conformance suite creates a probe driver while registering); it is stopped, with its
 * containers and state, after the file's tests. Its Docker containers and volumes carry the run's
 * label, so the leak check names them if it left any. Starting one takes well under a second.
 *
 * ```ts
 * const cluster = await useLocalCluster({ kubeVersion: '1.28' });
 * testDriver({ name: 'k8s 1.28', create: (namespace) => createK8sDriver({ namespace, kubeconfig: cluster.kubeconfigPath }) });
 * ```
 */
export async function useLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const cluster = await startLocalCluster({ dockerLabels: runDockerLabels(), ...options });
  afterAll(async () => {
    await cluster.stop({ removeContainers: true });
    rmSync(cluster.stateDir, { recursive: true, force: true });
  });
  return cluster;
}
