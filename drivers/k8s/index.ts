import { randomNamespace, type DriverFactory } from '../../src/registry.js';
import { validateNamespace } from '../../src/validate.js';
import { K8sDriver } from './driver.js';
import { loadKubeConfig } from './kubeconfig.js';
import { resolveKubernetesNamespace, resolveOptions, type K8sDriverOptions } from './options.js';

/**
 * Creates the Kubernetes driver. The kubeconfig is loaded and the options validated
 * here; the API server is first contacted by the first operation. Typed as the
 * {@link K8sDriver} it returns, so its own methods (`createPullSecret`, `execInWorkload`)
 * need no cast.
 */
export function createK8sDriver(options: K8sDriverOptions = {}): K8sDriver {
  const o: K8sDriverOptions = options ?? {};
  const namespace = o.namespace ?? randomNamespace();
  validateNamespace(namespace);
  const kc = loadKubeConfig(o);
  const kubernetesNamespace = resolveKubernetesNamespace(o.kubernetesNamespace, kc);
  return new K8sDriver(kc, resolveOptions({ ...o, namespace }, kubernetesNamespace));
}

// The registry's factory shape: a compile-time check that this function fits it.
createK8sDriver satisfies DriverFactory<K8sDriverOptions>;

export { K8sDriver } from './driver.js';
export { doctor, REQUIRED_PERMISSIONS, type DoctorCheck, type DoctorReport } from './doctor.js';
export type { K8sDriverOptions, SecretEnvSource } from './options.js';
export type { WorkloadExecOptions } from './workload.js';
