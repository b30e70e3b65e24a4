import { inject } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { testDriver } from '../conformance/index.js';
import { testNamespace } from '../setup/test-run.js';

// `make conformance DRIVER=k8s` with KUBECONFIG set targets a real cluster; otherwise the
// kubeconfig of the local API server, provided by the global setup (typed in test/setup/provided.d.ts).
const realCluster = process.env.DRIVETRAIN_CONFORMANCE_DRIVER === 'k8s' && (process.env.KUBECONFIG ?? '') !== '';
const kubeconfig = realCluster ? (process.env.KUBECONFIG as string) : inject('kubeconfig');

testDriver({
  name: 'k8s',
  // A missing image fails after 15 s of ErrImagePull/ImagePullBackOff rather than the default 2 min.
  namespace: () => testNamespace('ct'),
  create: (namespace) => createK8sDriver({ namespace, kubeconfig, pullTimeoutMs: 15_000 }),
  // Pods are scheduled, pulled and started: give every case more room than on Docker.
  timeoutMs: 120_000,
});
