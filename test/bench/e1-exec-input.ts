import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { CollectingWritable } from '../../src/logs.js';
import type { Driver, Sandbox } from '../../src/types.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import type { KubeVersion } from '../k8s-server/profile/gates.js';
import { BENCH_IMAGE, benchNamespace } from './docker-baselines.js';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize, timed } from './stats.js';

/** Sizes of E1. */
export interface E1Options {
  /** Input size in MiB. @default 16 */
  sizeMiB?: number;
  /** Execs of each variant, interleaved. @default 5 */
  rounds?: number;
  namespace?: string;
}

/** A sandbox on a local cluster of one version, with its driver. */
interface Side {
  cluster: LocalCluster;
  driver: Driver;
  sandbox: Sandbox;
}

async function startSide(kubeVersion: KubeVersion, namespace: string): Promise<Side> {
  const cluster = await startLocalCluster({ kubeVersion });
  const driver = createK8sDriver({ namespace, kubeconfig: cluster.kubeconfigPath });
  const sandbox = await (driver.startSandbox as NonNullable<Driver['startSandbox']>)({ id: 'e1', image: BENCH_IMAGE });
  return { cluster, driver, sandbox };
}

/** One `sandbox.exec(['wc', '-c'])` with `input`; checks the count it printed. */
async function countInput(side: Side, input: Buffer): Promise<void> {
  const stdout = new CollectingWritable();
  const status = await side.sandbox.exec(['wc', '-c'], { stdin: input, stdout });
  if (status.exitCode !== 0 || stdout.text().trim() !== String(input.length)) {
    throw new Error(`wc -c exited ${status.exitCode} printing ${JSON.stringify(stdout.text())}, expected ${input.length}`);
  }
}

/**
 * E1 — exec input throughput by subprotocol: `sandbox.exec(['wc', '-c'])` with `size` MiB of
 * input on Kubernetes 1.28 (v4: the input framed for the wrapper, drivers/k8s/stdin-frames.ts)
 * and on 1.30 (v5: the command as given, stdin ended by the CLOSE frame), interleaved, each
 * on a local cluster of its own. Values are MiB/s (higher is better).
 */
export async function measureE1(options: E1Options = {}): Promise<BenchRow[]> {
  const sizeMiB = options.sizeMiB ?? 16;
  const rounds = options.rounds ?? 5;
  const namespace = options.namespace ?? benchNamespace('e1');
  const input = randomBytes(sizeMiB * 2 ** 20);
  const sides: Side[] = [];
  try {
    const framed = await startSide('1.28', namespace);
    sides.push(framed);
    const v5 = await startSide('1.30', namespace);
    sides.push(v5);
    // Warm-up: each driver learns its protocol.
    await countInput(framed, input.subarray(0, 1024));
    await countInput(v5, input.subarray(0, 1024));
    const rate = async (side: Side): Promise<number> => sizeMiB / ((await timed(() => countInput(side, input))) / 1000);
    const samples = await interleave(rounds, { framed: () => rate(framed), v5: () => rate(v5) });
    const subject = summarize(samples.framed);
    const baseline = summarize(samples.v5);
    const r = ratio(subject, baseline);
    return [
      {
        id: 'E1',
        scale: `${sizeMiB} MiB`,
        unit: 'MiB/s',
        subject: { label: 'sandbox exec input, 1.28 (v4, framed)', value: subject },
        baseline: { label: 'sandbox exec input, 1.30 (v5, as given)', value: baseline },
        ratio: r,
        target: targetOf('≥ 0.5×', r, 0.5, 'min'),
        note: 'the wrapper forks one dd per 64 KiB frame',
      },
    ];
  } finally {
    for (const side of sides.reverse()) {
      await side.driver.close().catch(() => {});
      await side.cluster.stop({ removeContainers: true }).catch(() => {});
      rmSync(side.cluster.stateDir, { recursive: true, force: true });
    }
  }
}
