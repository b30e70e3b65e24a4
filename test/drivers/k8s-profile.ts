import { createK8sDriver } from '../../drivers/k8s/index.js';
import type { LocalCluster, LocalClusterOptions } from '../k8s-server/cluster.js';
import { testDriver } from '../conformance/index.js';
import type { GroupName } from '../conformance/harness.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * The conformance cases whose behaviour depends on the Kubernetes version and its feature
 * gates: pods/log `stream` (logs), the exec/attach subprotocol (stdin, sandbox exec) and
 * volume copies through a helper's exec (read files). The whole suite runs on the suite's
 * shared cluster (test/drivers/k8s.test.ts); these run again on other profiles.
 */
export const PROFILE_GROUPS: readonly GroupName[] = ['logs', 'stdin', 'readFiles', 'sandbox'];

/** Runs {@link PROFILE_GROUPS} against a local cluster of its own, of `profile`; returns the cluster. */
export async function testProfile(label: string, profile: LocalClusterOptions): Promise<LocalCluster> {
  const cluster = await useLocalCluster(profile);
  testDriver({
    name: `k8s ${label}`,
    namespace: () => testNamespace('cp'),
    create: (namespace) => createK8sDriver({ namespace, kubeconfig: cluster.kubeconfigPath, pullTimeoutMs: 15_000 }),
    timeoutMs: 120_000,
    only: PROFILE_GROUPS,
  });
  return cluster;
}
