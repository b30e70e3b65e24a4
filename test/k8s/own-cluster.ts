import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach } from 'vitest';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import type { LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

/** A test file's own local cluster, its API clients, and k8s drivers on it. */
export interface OwnCluster {
  cluster: LocalCluster;
  core: CoreV1Api;
  batch: BatchV1Api;
  /** The Kubernetes namespace of its kubeconfig's context: where the drivers make their objects. */
  k8sNamespace: string;
  /**
   * A driver on the cluster in a fresh drivetrain namespace (`prefix`), closed after the test.
   * No background reap: nothing but what a test calls reaches the cluster.
   */
  newDriver(options?: Partial<K8sDriverOptions>): K8sDriver;
}

/**
 * Starts a local cluster for the calling test file alone (await it at the file's top level), so
 * that its request counts and owner Leases are that file's only.
 */
export async function ownCluster(prefix: string): Promise<OwnCluster> {
  const cluster = await useLocalCluster(DRIVER_CLUSTER);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const drivers: K8sDriver[] = [];
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((driver) => driver.close()));
  });
  return {
    cluster,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    k8sNamespace: kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default',
    newDriver: (options = {}) => {
      const driver = createK8sDriver({ kubeconfig: cluster.kubeconfigPath, namespace: testNamespace(prefix), reapOrphans: false, ...options });
      drivers.push(driver);
      return driver;
    },
  };
}
