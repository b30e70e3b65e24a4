/**
 * A local Kubernetes API server that speaks the real wire protocol and runs pods on the
 * Docker engine: `startLocalCluster()` gives a kubeconfig for kubectl, client-go,
 * @kubernetes/client-node or any other client. See README.md.
 */
export { startLocalCluster, noopNode, type LocalCluster, type LocalClusterOptions } from './cluster.js';
export { startControlServer } from './control.js';
export {
  FeatureGateError,
  KUBE_VERSIONS,
  LATEST_KUBE_VERSION,
  profileOptionsFromEnv,
  resolveProfile,
  type ClusterProfile,
  type FeatureGatesInput,
  type GateName,
  type KubeVersion,
  type ProfileOptions,
} from './profile/profile.js';
export { FAULT_KINDS, type FaultSpec } from './faults.js';
