import { createK8sDriver, type K8sDriver } from '../../drivers/k8s/index.js';
import { taskObjectName } from '../../drivers/k8s/naming.js';
import { readLogs } from '../../src/logs.js';
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

/**
 * Runs one task writing to both streams, reads its logs once, and returns the result with the
 * `stream` values the driver's log reads sent (the one-off probe's invalid value left out).
 */
export async function logsAndStreamsSent(cluster: LocalCluster): Promise<{ result: Awaited<ReturnType<typeof readLogs>>; streamsSent: string[] }> {
  const driver = createK8sDriver({ namespace: testNamespace('cs'), kubeconfig: cluster.kubeconfigPath }) as K8sDriver;
  try {
    const container = await driver.runContainer({ id: 'streams', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2'] });
    await container.wait();
    const pod = `/pods/${taskObjectName(driver.namespace, 'streams')}/log`;
    const before = cluster.metrics.recent('get', 'pods').length;
    const result = await readLogs(container);
    const streamsSent = cluster.metrics
      .recent('get', 'pods')
      .slice(before)
      .map((request) => new URL(request.requestURI, 'https://x'))
      .filter((url) => url.pathname.endsWith(pod) && url.searchParams.has('stream') && url.searchParams.get('stream') !== 'DrivetrainProbe')
      .map((url) => url.searchParams.get('stream') as string);
    return { result, streamsSent };
  } finally {
    await driver.close();
  }
}
