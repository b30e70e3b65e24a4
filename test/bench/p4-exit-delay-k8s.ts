import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { summarize } from './stats.js';
import { BENCH_IMAGE, benchNamespace, engineClient, taskId } from './docker-baselines.js';
import { benchK8sDriver, type BenchCluster } from './k8s-bench.js';
import { DieEvents, wallClockMs } from './p4-exit-delay.js';

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
  const delays: number[] = [];
  try {
    for (let i = 0; i < tasks; i++) {
      const container = await driver.runContainer({ id: taskId('exit'), image: BENCH_IMAGE, command: ['sleep', '0.5'] });
      try {
        const status = await container.wait({ signal: AbortSignal.timeout(60_000) });
        const resolvedAt = wallClockMs();
        if (status.exitCode !== 0) throw new Error(`sleep ended with ${JSON.stringify(status)}`);
        const podName = (container as unknown as { podName: string }).podName;
        const exitedAt = await events.exitTime(`${bench.kubernetesNamespace}/${podName}`);
        delays.push(resolvedAt - exitedAt);
      } finally {
        await container.cleanup();
      }
    }
  } finally {
    events.close();
    await driver.close();
  }
  const value = summarize(delays);
  return [
    {
      id: 'P4',
      scale: `kubernetes, ${tasks} tasks`,
      unit: 'ms',
      subject: { label: 'exit → wait() resolves', value },
      target: targetOf('≤ 100 ms median', value.median, 100, 'max'),
      note: "exit moment = the Docker `die` event of the pod's container (the local kubelet's); includes the kubelet noticing the exit and the status update reaching the driver's watch",
    },
  ];
}
