import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize, timed } from './stats.js';
import { BENCH_IMAGE, benchNamespace, taskId } from './docker-baselines.js';
import { apiLatencies, benchK8sDriver, driverTask, watchingTask, type BenchCluster } from './k8s-bench.js';
import { LABELS } from '../../src/labels.js';

/** Sizes of P7. */
export interface P7Options {
  /** Round trips of each variant, interleaved. @default 8 */
  rounds?: number;
  namespace?: string;
}

/** Longest a `kubectl run` may take before it counts as hung, in ms. */
const KUBECTL_TIMEOUT_MS = 30_000;

/** Raised when `kubectl run` does not finish in time, or finishes without the output. */
class KubectlFlake extends Error {}

/** `kubectl run --rm -i --restart=Never` of `echo hello`; checks what it printed. */
async function kubectlRun(bench: BenchCluster, namespace: string): Promise<void> {
  const name = `kubectl-${taskId('r').slice(2)}`;
  const labels = `${LABELS.managed}=true,${LABELS.namespace}=${namespace}`;
  const args = ['run', name, '--rm', '-i', '--restart=Never', `--image=${BENCH_IMAGE}`, `--labels=${labels}`, '-n', bench.kubernetesNamespace, '--', 'echo', 'hello'];
  const result = await bench.kubectl(args, KUBECTL_TIMEOUT_MS).catch((error: Error) => {
    throw new KubectlFlake(error.message);
  });
  // Exit 0 without the output: the attach came after the container had exited.
  if (result.code === 0 && !result.stdout.toString('utf8').startsWith('hello\n')) throw new KubectlFlake('kubectl run lost the output');
  if (result.code !== 0) {
    throw new Error(`kubectl run exited ${result.code}: ${result.stdout.toString('utf8')} ${result.stderr}`);
  }
}

/**
 * Times `kubectl run`. A run that hangs or loses the output (both seen on a loaded
 * machine, when the attach meets an already finished container) is counted in `hangs`
 * and run again, at most 3 times.
 */
async function timedKubectlRun(bench: BenchCluster, namespace: string, hangs: { count: number }): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await timed(() => kubectlRun(bench, namespace));
    } catch (error) {
      if (!(error instanceof KubectlFlake) || attempt >= 2) throw error;
      hangs.count++;
    }
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
    const hangs = { count: 0 };
    await timedKubectlRun(bench, namespace, hangs);
    const samples = await interleave(rounds, {
      driver: () => timed(() => driverTask(driver, ['echo', 'hello'], 'hello\n')),
      kubectl: () => timedKubectlRun(bench, namespace, hangs),
      floor: () =>
        timed(async () => {
          const out = await watchingTask(bench, namespace, ['echo', 'hello']);
          if (out !== 'hello\n') throw new Error(`the watched pod printed ${JSON.stringify(out)}`);
        }),
    });
    const d = summarize(samples.driver);
    const k = summarize(samples.kubectl);
    const f = summarize(samples.floor);
    const latency = summarize(await apiLatencies(bench, 20));
    return [
      {
        id: 'P7',
        scale: `${rounds} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'kubectl run --rm -i', value: k },
        ratio: ratio(d, k),
        target: targetOf('≤ 0.5×', ratio(d, k), 0.5, 'max'),
        ...(hangs.count === 0 ? {} : { note: `${hangs.count} kubectl run(s) hung past ${KUBECTL_TIMEOUT_MS / 1000} s or lost the output, and were run again (not counted)` }),
      },
      {
        id: 'P7',
        scale: `${rounds} in sequence`,
        unit: 'ms',
        subject: { label: 'driver round trip', value: d },
        baseline: { label: 'floor: bare create → watch → log → delete', value: f },
        ratio: ratio(d, f),
        note: 'the floor is what the local API server and its kubelet cost: the fewest requests any client can make',
      },
      {
        id: 'P7',
        scale: '20 in sequence',
        unit: 'ms',
        subject: { label: 'API server latency: GET /version', value: latency },
      },
    ];
  } finally {
    await driver.close();
  }
}
