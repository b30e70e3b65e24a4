import { CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { leaseNamespaces } from '../../drivers/k8s/owner-lease.js';
import { LABELS } from '../../src/labels.js';

/** The owner Leases of the Kubernetes namespace that name the drivetrain namespace `namespace`. */
export async function leasesNaming(kubeconfigPath: string, kubernetesNamespace: string, namespace: string): Promise<V1Lease[]> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const list = await config.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: kubernetesNamespace, labelSelector: `${LABELS.managed}=true,${LABELS.role}=owner` });
  return list.items.filter((lease) => leaseNamespaces(lease).includes(namespace));
}

/** Whether a Lease's `renewTime` + `leaseDurationSeconds` is past. */
export function leaseExpired(lease: V1Lease): boolean {
  return Date.now() > new Date(lease.spec?.renewTime ?? 0).getTime() + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
}
