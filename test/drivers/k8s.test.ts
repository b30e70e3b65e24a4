import { inject } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { testDriver } from '../conformance/index.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Path of the kubeconfig the local Kubernetes API server wrote (provided by its global setup). */
    kubeconfig: string;
  }
}

// `make conformance DRIVER=k8s` with KUBECONFIG set targets a real cluster; otherwise the
// local API server started by the global setup.
const realCluster = process.env.DRIVETRAIN_CONFORMANCE_DRIVER === 'k8s' && process.env.KUBECONFIG !== undefined && process.env.KUBECONFIG !== '';
const kubeconfig = realCluster ? (process.env.KUBECONFIG as string) : inject('kubeconfig');

testDriver({
  name: 'k8s',
  create: (namespace) => {
    const options = { namespace, kubeconfig };
    return createK8sDriver(options);
  },
  // Pods are scheduled, pulled and started: give every case more room than on Docker.
  timeoutMs: 120_000,
});
