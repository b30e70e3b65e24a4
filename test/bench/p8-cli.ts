import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_IMAGE, runProcess, taskId, type ProcessResult } from './docker-baselines.js';
import type { BenchCluster } from './k8s-bench.js';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize, timed } from './stats.js';

/** Sizes of P8. */
export interface P8Options {
  /** Rounds of each pair, interleaved. @default 15 (docker, --help), 8 (k8s) */
  rounds?: number;
}

/** The `drivetrain` executable of the compiled build, as `npm install` links it. */
const BIN = fileURLToPath(new URL('../../dist/bundle/cli/bin.js', import.meta.url));
/** Longest one command may take before the run counts as hung, in ms. */
const COMMAND_TIMEOUT_MS = 60_000;
/** Longest a `kubectl run` may take before it counts as hung and is run again, in ms. */
const KUBECTL_TIMEOUT_MS = 30_000;

/**
 * GNU time, when the machine has it: it reports the CPU time (user and system) of the
 * command it runs, the steadier figure on a loaded machine. Its own cost is a fork and an exec.
 */
const GNU_TIME = '/usr/bin/time';
const CPU_LINE = /^p8-cpu (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/m;

/** CPU times (ms) of the commands timed, by a key of the caller's. */
type CpuSamples = Record<string, number[]>;

/** Runs `command` and throws unless it exits 0; with `cpu`, records the command's CPU time under `key`. */
async function succeed(command: string, args: readonly string[], env?: NodeJS.ProcessEnv, cpu?: { samples: CpuSamples; key: string }): Promise<ProcessResult> {
  const measured = cpu !== undefined && existsSync(GNU_TIME);
  const result = measured ? await runProcess(GNU_TIME, ['-f', 'p8-cpu %U %S', command, ...args], COMMAND_TIMEOUT_MS, env) : await runProcess(command, args, COMMAND_TIMEOUT_MS, env);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const times = measured ? CPU_LINE.exec(result.stderr) : null;
  if (cpu !== undefined && times !== null) (cpu.samples[cpu.key] ??= []).push((Number(times[1]) + Number(times[2])) * 1000);
  return result;
}

/** `drivetrain ARGS` on this Node, timed from spawn to exit. */
function drivetrain(args: readonly string[], env?: NodeJS.ProcessEnv, cpu?: { samples: CpuSamples; key: string }): Promise<number> {
  return timed(() => succeed(process.execPath, [BIN, ...args], env, cpu));
}

/** `drivetrain: 130 ms, docker: 20 ms` of the CPU times recorded, or '' when none were. */
function cpuNote(samples: CpuSamples): string {
  const parts = Object.entries(samples).map(([key, list]) => `${key} ${summarize(list).median.toFixed(0)} ms`);
  return parts.length === 0 ? '' : `; CPU time of the client process (median, 10 ms resolution): ${parts.join(', ')}`;
}

/** One P8 row: a CLI command beside its baseline, both timed from spawn to exit. */
function cliRow(scale: string, subject: { label: string; samples: number[] }, baseline: { label: string; samples: number[] }, limit: number, note: string): BenchRow {
  const s = summarize(subject.samples);
  const b = summarize(baseline.samples);
  const r = ratio(s, b);
  return { id: 'P8', scale, unit: 'ms', subject: { label: subject.label, value: s }, baseline: { label: baseline.label, value: b }, ratio: r, target: targetOf(`≤ ${limit.toFixed(1)}×`, r, limit, 'max'), note };
}

/**
 * P8 — the CLI round trip as a user meets it, each command in a fresh process timed from
 * spawn to exit, interleaved with its baseline: `drivetrain run busybox -- true` (the
 * default driver: Docker, its engine answering) against `docker run --rm busybox true`,
 * and `drivetrain --help` against a bare `node -e 0` (the floor of any Node CLI; the
 * target is the absolute ≤ 100 ms).
 */
export async function measureP8Docker(options: P8Options = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 15;
  // Warm-up: the engine's image cache, the CLI's compile cache.
  await succeed('docker', ['run', '--rm', BENCH_IMAGE, 'true']);
  await drivetrain(['run', BENCH_IMAGE, '--', 'true']);
  const cpu: CpuSamples = {};
  const helpCpu: CpuSamples = {};
  const run = await interleave(rounds, {
    drivetrain: () => drivetrain(['run', BENCH_IMAGE, '--', 'true'], undefined, { samples: cpu, key: 'drivetrain' }),
    docker: () => timed(() => succeed('docker', ['run', '--rm', BENCH_IMAGE, 'true'], undefined, { samples: cpu, key: 'docker' })),
  });
  const help = await interleave(rounds, {
    drivetrain: () => drivetrain(['--help'], undefined, { samples: helpCpu, key: 'drivetrain --help' }),
    node: () => timed(() => succeed(process.execPath, ['-e', '0'], undefined, { samples: helpCpu, key: 'node -e 0' })),
  });
  const helpMedian = summarize(help.drivetrain).median;
  return [
    cliRow('docker, 1 task', { label: 'drivetrain run busybox -- true', samples: run.drivetrain }, { label: 'docker run --rm busybox true', samples: run.docker }, 1.0, `each a fresh process, spawn to exit, both on the local engine${cpuNote(cpu)}`),
    {
      ...cliRow('--help', { label: 'drivetrain --help', samples: help.drivetrain }, { label: 'node -e 0 (a bare Node process)', samples: help.node }, Number.POSITIVE_INFINITY, `the target is the absolute median${cpuNote(helpCpu)}`),
      target: targetOf('≤ 100 ms', helpMedian, 100, 'max'),
    },
  ];
}

/** `kubectl run t --rm -i --restart=Never --image=busybox -- true`; a run that hangs is run again (at most twice). */
async function kubectlRun(bench: BenchCluster, hangs: { count: number }): Promise<number> {
  const args = ['run', `t-${taskId('k').slice(2)}`, '--rm', '-i', '--restart=Never', `--image=${BENCH_IMAGE}`, '-n', bench.kubernetesNamespace, '--', 'true'];
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    const result = await bench.kubectl(args, KUBECTL_TIMEOUT_MS).catch((error: Error) => error);
    if (!(result instanceof Error) && result.code === 0) return performance.now() - started;
    if (attempt >= 2) throw result instanceof Error ? result : new Error(`kubectl run exited ${result.code}: ${result.stderr}`);
    hangs.count++;
  }
}

/**
 * P8 on Kubernetes: `drivetrain run --driver k8s busybox -- true` against `kubectl run t
 * --rm -i --restart=Never --image=busybox -- true`, both on the local cluster (the same
 * kubeconfig, Kubernetes namespace `default`), interleaved.
 */
export async function measureP8K8s(bench: BenchCluster, options: P8Options = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 8;
  const env = { ...process.env, KUBECONFIG: bench.cluster.kubeconfigPath, DRIVETRAIN_K8S_NAMESPACE: bench.kubernetesNamespace };
  const args = ['run', '--driver', 'k8s', BENCH_IMAGE, '--', 'true'];
  const hangs = { count: 0 };
  const cpu: CpuSamples = {};
  // Warm-up: kubectl's discovery cache, the CLI's compile cache, the image on the node.
  await kubectlRun(bench, hangs);
  await drivetrain(args, env);
  hangs.count = 0;
  const samples = await interleave(rounds, {
    drivetrain: () => drivetrain(args, env, { samples: cpu, key: 'drivetrain' }),
    kubectl: () => kubectlRun(bench, hangs),
  });
  const retried = hangs.count === 0 ? '' : `; ${hangs.count} kubectl run(s) hung past ${KUBECTL_TIMEOUT_MS / 1000} s and were run again (not counted)`;
  return [
    cliRow('k8s, 1 task', { label: 'drivetrain run --driver k8s busybox -- true', samples: samples.drivetrain }, { label: 'kubectl run --rm -i --restart=Never', samples: samples.kubectl }, 1.0, `each a fresh process, spawn to exit, both on the local cluster${retried}${cpuNote(cpu)}`),
  ];
}
