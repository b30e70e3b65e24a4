import type { DriverFactory } from '../../src/registry.js';
import { validateNamespace } from '../../src/validate.js';
import { K8sDriver } from './driver.js';
import { loadKubeConfig } from './kubeconfig.js';
import { resolveKubernetesNamespace, resolveOptions, type K8sDriverOptions } from './options.js';

/**
 * Creates the Kubernetes driver. The kubeconfig is loaded and the options validated
 * here; the API server is first contacted by the first operation.
 */
export const createK8sDriver: DriverFactory<K8sDriverOptions> = (options) => {
  validateNamespace(options?.namespace);
  const kc = loadKubeConfig(options);
  const kubernetesNamespace = resolveKubernetesNamespace(options.kubernetesNamespace, kc);
  return new K8sDriver(kc, resolveOptions(options, kubernetesNamespace));
};

export { K8sDriver } from './driver.js';
export { doctor, REQUIRED_PERMISSIONS, type DoctorCheck, type DoctorReport } from './doctor.js';
export type { K8sDriverOptions, SecretEnvSource } from './options.js';
export type { WorkloadExecOptions } from './workload.js';
