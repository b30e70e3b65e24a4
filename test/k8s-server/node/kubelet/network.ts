import type Dockerode from 'dockerode';
import type { ClusterContext, KObject } from '../../api.js';
import { NODE_LABELS, dockerContainerName, instanceLabels } from './labels.js';
import { podHostname } from './spec.js';
import type { PodContainers } from './pod-containers.js';

/**
 * The pod's network namespace. Every container of a Kubernetes pod shares one network
 * namespace, the pod sandbox's (pkg/kubelet/kuberuntime/kuberuntime_sandbox.go
 * createPodSandbox; the runtime's pause container holds it), so containers reach each other at
 * `localhost`. Here the holder is a container of its own (named `k8s_POD_…`, as dockershim named
 * the sandbox), running `sleep` from the local test image with network `none`; every container of
 * the pod joins it (`NetworkMode: container:<holder>`), which needs no bridge. A pod with a single
 * container and no TCP probe gets none: its container's own namespace is the pod's, which nothing
 * can tell apart.
 */

/** The container-name label of the holder: no container of a pod can be named so (names are DNS labels). */
export const NETWORK_HOLDER = 'POD';

/** What the holder runs: the image must be present locally, as the test image always is. */
const HOLDER_IMAGE = 'busybox';
const HOLDER_COMMAND = ['sleep', '2147483647'];

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'];

/** Whether the pod needs a shared namespace: more than one container, or a TCP probe (read in the namespace, see probes.ts). */
export function needsNetworkHolder(pod: KObject): boolean {
  const containers: any[] = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
  return containers.length > 1 || containers.some((c) => PROBES.some((probe) => c[probe]?.tcpSocket !== undefined));
}

/**
 * Starts the holder (or keeps the running one found after a restart), recorded in the pod's
 * `containers`; returns its Docker ID.
 */
export async function startNetworkHolder(ctx: ClusterContext, pod: KObject, adopted: Dockerode.ContainerInfo | undefined, containers: PodContainers): Promise<string> {
  if (adopted?.State === 'running') return adopted.Id;
  const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid };
  const name = dockerContainerName(ref, NETWORK_HOLDER, 0);
  await ctx.docker.getContainer(adopted?.Id ?? name).remove({ force: true }).catch(() => undefined);
  containers.creating(name, NETWORK_HOLDER);
  const container = await ctx.docker.createContainer({
    name,
    Image: HOLDER_IMAGE,
    Entrypoint: HOLDER_COMMAND.slice(0, 1),
    Cmd: HOLDER_COMMAND.slice(1),
    Hostname: podHostname(pod),
    Labels: {
      ...instanceLabels(ctx),
      [NODE_LABELS.namespace]: ref.namespace,
      [NODE_LABELS.pod]: ref.name,
      [NODE_LABELS.uid]: ref.uid,
      [NODE_LABELS.container]: NETWORK_HOLDER,
      [NODE_LABELS.restartCount]: '0',
    },
    HostConfig: { NetworkMode: 'none' },
  });
  containers.created(name, container.id);
  await container.start();
  containers.started(container.id);
  return container.id;
}

/** Stops the holder of a pod that has ended; it is removed with the pod's containers. */
export async function stopNetworkHolder(ctx: ClusterContext, id: string, containers: PodContainers): Promise<void> {
  await ctx.docker.getContainer(id).kill().catch(() => undefined);
  containers.exited(id);
}
