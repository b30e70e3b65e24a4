import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { taskObjectName } from '../../drivers/k8s/naming.js';
import { readLogs } from '../../src/logs.js';
import type { LocalCluster, LocalClusterOptions } from '../k8s-server/cluster.js';
import { testDriver } from '../conformance/index.js';
import type { GroupName } from '../conformance/harness.js';
import { DRIVER_SETTINGS } from '../conformance/run/settings.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * The conformance cases whose behaviour depends on the Kubernetes version and its feature
 * gates: pods/log `stream` (logs), the exec/attach subprotocol (stdin, sandbox exec) and
 * volume copies through a helper's exec (read files). The whole suite runs on the suite's
 * shared cluster (test/drivers/k8s.test.ts); these run again on other profiles.
 */
export const PROFILE_GROUPS: readonly GroupName[] = ['logs', 'stdin', 'readFiles', 'sandbox'];

/**
 * Runs {@link PROFILE_GROUPS} and `extra` against a local cluster of its own, of `profile`;
 * returns the cluster. Terminals (`tty`) differ only between v4 (1.28, 1.29: input and sizes
 * over a socket that cannot half-close) and v5, which the shared cluster runs: 1.28 adds them.
 */
export async function testProfile(label: string, profile: LocalClusterOptions, extra: readonly GroupName[] = []): Promise<LocalCluster> {
  const cluster = await useLocalCluster(profile);
  testDriver({
    name: `k8s ${label}`,
    namespace: () => testNamespace('cp'),
    ...DRIVER_SETTINGS.k8s.suite,
    create: (namespace) => createK8sDriver({ ...DRIVER_SETTINGS.k8s.options, namespace, kubeconfig: cluster.kubeconfigPath }),
    only: [...PROFILE_GROUPS, ...extra],
  });
  return cluster;
}

/**
 * Runs one task writing to both streams, reads its logs once, and returns the result with the
 * `stream` values the driver's log reads sent, whether it sent its one-off probe (a read
 * with an invalid `stream` value), and how many pods/log requests the read made in all.
 */
export async function logsAndStreamsSent(
  cluster: LocalCluster,
  options: Pick<K8sDriverOptions, 'splitLogStreams'> = {},
): Promise<{ result: Awaited<ReturnType<typeof readLogs>>; streamsSent: string[]; probed: boolean; reads: number }> {
  const driver = createK8sDriver({ namespace: testNamespace('cs'), kubeconfig: cluster.kubeconfigPath, ...options }) as K8sDriver;
  try {
    const container = await driver.runContainer({ id: 'streams', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2'] });
    await container.wait();
    const pod = `/pods/${taskObjectName(driver.namespace, 'streams')}/log`;
    const before = cluster.metrics.recent('get', 'pods').length;
    const result = await readLogs(container);
    const reads = cluster.metrics
      .recent('get', 'pods')
      .slice(before)
      .map((request) => new URL(request.requestURI, 'https://x'))
      .filter((url) => url.pathname.endsWith(pod));
    const sent = reads.filter((url) => url.searchParams.has('stream')).map((url) => url.searchParams.get('stream') as string);
    return { result, streamsSent: sent.filter((stream) => stream !== 'DrivetrainProbe'), probed: sent.includes('DrivetrainProbe'), reads: reads.length };
  } finally {
    await driver.close();
  }
}
