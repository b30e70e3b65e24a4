import { optionsObject, resolveBaseOptions } from '../../src/kit/options.js';
import type { DriverEntry, DriverFactory } from '../../src/types.js';
import { K8sDriver } from './driver.js';
import { doctor } from './doctor.js';
import { loadKubeConfig } from './kubeconfig.js';
import { resolveKubernetesNamespace, resolveOptions, type K8sDriverOptions } from './options.js';

/**
 * Creates the Kubernetes driver. The kubeconfig is loaded and the options validated
 * here; the API server is first contacted by the first operation. Typed as the
 * {@link K8sDriver} it returns, so its own methods (`createPullSecret`, `execInWorkload`,
 * `renderTask`, `taskObjectName`, …) need no cast.
 */
export function createK8sDriver(given?: K8sDriverOptions): K8sDriver {
  const options = optionsObject(given);
  const base = resolveBaseOptions(options);
  const kc = loadKubeConfig(options);
  const kubernetesNamespace = resolveKubernetesNamespace(options.kubernetesNamespace, kc);
  return new K8sDriver(kc, resolveOptions({ ...options, ...base }, kubernetesNamespace));
}

// The registry's factory shape: a compile-time check that this function fits it.
createK8sDriver satisfies DriverFactory<K8sDriverOptions>;

/** What the registry loads (`createDriver('k8s')`, `drivetrain doctor --driver k8s`). */
export const driverEntry: DriverEntry<K8sDriverOptions> = { create: createK8sDriver, doctor: () => doctor() };

declare module '../../src/types.js' {
  interface DriverOptionsByName {
    k8s: K8sDriverOptions;
  }
}

export { K8sDriver } from './driver.js';
export type { K8sRenderedTask } from './task-plan.js';
export type { K8sContainer } from './container.js';
export type { K8sDetachResult, LeftObject } from './detach.js';
export type { K8sJobObject, K8sPodObject, K8sTaskObject } from './pod-spec.js';
export { TASK_ID_ANNOTATION, toLabelValue } from './naming.js';
export { doctor, REQUIRED_PERMISSIONS, type DoctorCheck, type DoctorReport, type K8sDoctorOptions, type Permission } from './doctor.js';
export type { K8sDriverOptions, SecretEnvSource } from './options.js';
export type { WorkloadExecOptions } from './workload.js';
