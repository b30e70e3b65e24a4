import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize, timed } from './stats.js';
import { BENCH_IMAGE, benchNamespace, taskId } from './docker-baselines.js';
import { benchK8sDriver, driverTask, type BenchCluster } from './k8s-bench.js';
import { LABELS } from '../../src/labels.js';

/** Sizes of P7. */
export interface P7Options {
  /** Round trips of each variant, interleaved. @default 8 */
  rounds?: number;
  namespace?: string;
}

/** `kubectl run --rm -i --restart=Never` of `echo hello`; checks what it printed. */
async function kubectlRun(bench: BenchCluster, namespace: string): Promise<void> {
  const name = `kubectl-${taskId('r').slice(2)}`;
  const labels = `${LABELS.managed}=true,${LABELS.namespace}=${namespace}`;
  const result = await bench.kubectl(['run', name, '--rm', '-i', '--restart=Never', `--image=${BENCH_IMAGE}`, `--labels=${labels}`, '-n', bench.kubernetesNamespace, '--', 'echo', 'hello'], 120_000);
  if (result.code !== 0 || !result.stdout.toString('utf8').startsWith('hello\n')) {
    throw new Error(`kubectl run exited ${result.code}: ${result.stdout.toString('utf8')} ${result.stderr}`);
  }
}

/**
 * P7 — Kubernetes round trip of `echo hello` on the local API server: the driver's run →
 * wait → logs → cleanup against `kubectl run --rm -i --restart=Never`, interleaved.
 */
export async function measureP7(bench: BenchCluster, options: P7Options = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 8;
  const namespace = options.namespace ?? benchNamespace('p7');
  const driver = await benchK8sDriver(bench, namespace);
  try {
    // Warm-up: the driver's informer and kubectl's discovery cache.
    await driverTask(driver, ['echo', 'hello'], 'hello\n');
    await kubectlRun(bench, namespace);
    const samples = await interleave(rounds, {
      driver: () => timed(() => driverTask(driver, ['echo', 'hello'], 'hello\n')),
      kubectl: () => timed(() => kubectlRun(bench, namespace)),
    });
    const d = summarize(samples.driver);
    const k = summarize(samples.kubectl);
    return [
      {
        id: 'P7',
        scale: `${rounds} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'kubectl run --rm -i', value: k },
        ratio: ratio(d, k),
        target: targetOf('≤ 0.5×', ratio(d, k), 0.5, 'max'),
      },
    ];
  } finally {
    await driver.close();
  }
}
