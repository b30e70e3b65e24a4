import { inject } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { testDriver } from '../conformance/index.js';
import { DRIVER_SETTINGS } from '../conformance/run/settings.js';
import { testNamespace } from '../setup/test-run.js';

// `make conformance DRIVER=k8s` with KUBECONFIG set targets a real cluster; otherwise the
// kubeconfig of the local API server, provided by the global setup (typed in test/setup/provided.d.ts).
const realCluster = process.env.DRIVETRAIN_CONFORMANCE_DRIVER === 'k8s' && (process.env.KUBECONFIG ?? '') !== '';
const kubeconfig = realCluster ? (process.env.KUBECONFIG as string) : inject('kubeconfig');

testDriver({
  name: 'k8s',
  ...DRIVER_SETTINGS.k8s.suite,
  namespace: () => testNamespace('ct'),
  create: (namespace) => createK8sDriver({ ...DRIVER_SETTINGS.k8s.options, namespace, kubeconfig }),
});
