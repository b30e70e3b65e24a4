import type { BenchRow } from './row.js';
import { benchNamespace, engineClient } from './docker-baselines.js';
import { benchK8sDriver, type BenchCluster } from './k8s-bench.js';
import { DieEvents, exitDelayRows, exitDelays } from './p4-exit-delay.js';
import type { Container } from '../../src/types.js';

/** Labels the local cluster's kubelet puts on the Docker containers of pods. */
const KUBELET_LABELS = {
  instance: 'drivetrain-local-k8s/instance',
  namespace: 'drivetrain-local-k8s/pod-namespace',
  pod: 'drivetrain-local-k8s/pod-name',
  container: 'drivetrain-local-k8s/container-name',
} as const;

/** The task container's name in the driver's pods. */
const TASK_CONTAINER = 'task';

/** Sizes of P4 (Kubernetes). */
export interface P4K8sOptions {
  /** Tasks, one after the other. @default 10 */
  tasks?: number;
  namespace?: string;
}

/**
 * P4 (Kubernetes) — the delay between the container's exit and `wait()` resolving. The
 * pod's `finishedAt` has second precision only, so the exit moment is the Docker `die`
 * event of the Docker container that the local kubelet runs for the pod.
 */
export async function measureP4K8s(bench: BenchCluster, options: P4K8sOptions = {}): Promise<BenchRow[]> {
  const tasks = options.tasks ?? 10;
  const namespace = options.namespace ?? benchNamespace('p4k');
  const driver = await benchK8sDriver(bench, namespace);
  const events = await DieEvents.open(engineClient(), KUBELET_LABELS.instance, (event) => {
    const a = event.Actor?.Attributes ?? {};
    return a[KUBELET_LABELS.container] === TASK_CONTAINER ? `${a[KUBELET_LABELS.namespace]}/${a[KUBELET_LABELS.pod]}` : undefined;
  });
  // The driver's pod name is not part of the contract: read it off the handle.
  const podOf = (container: Container): string => `${bench.kubernetesNamespace}/${(container as unknown as { podName: string }).podName}`;
  const delays = await exitDelays(driver, events, tasks, '0.5', podOf);
  return exitDelayRows(`kubernetes, ${tasks} tasks`, delays, "exit moment = the Docker `die` event of the pod's container (the local kubelet's); includes the kubelet noticing the exit and the status update reaching the driver's watch");
}
