import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { DockerContainer } from '../../drivers/docker/index.js';
import type { BenchRow } from './row.js';
import { targetOf } from './row.js';
import { interleave, ratio, summarize } from './stats.js';
import { BENCH_IMAGE, benchDriver, benchNamespace, taskId } from './docker-baselines.js';

/** Sizes of P5. */
export interface P5Options {
  /** The drivetrain namespace of everything the measure makes. @default a random `bench-…` one */
  namespace?: string;
  /** Output sizes in MiB. @default [5, 50] */
  sizesMiB?: readonly number[];
  /** Reads of each variant per size, interleaved. @default 5, and 3 from 20 MiB on */
  rounds?: number;
}

/** A Writable that only counts bytes. */
class CountingWritable extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

/** A shell command printing exactly `bytes` bytes of 100-byte lines. */
function producer(bytes: number): string[] {
  const line = 'drivetrain-log-throughput-'.padEnd(99, 'x');
  return ['sh', '-c', `yes ${line} | head -c ${bytes}`];
}

/** `docker logs -f` of a container, counting the bytes it prints; resolves with MiB/s. */
function cliFollow(engineId: string, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('docker', ['logs', '-f', engineId], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0 || bytes !== expected) reject(new Error(`docker logs -f exited ${code} after ${bytes} of ${expected} bytes`));
      else resolve(expected / 2 ** 20 / (ms / 1000));
    });
  });
}

/**
 * P5 — follow-log throughput: a container prints `size` MiB and exits; then its log is
 * read in full through `logs({ follow: true })` and through `docker logs -f`, the two
 * interleaved, each into this process. Values are MiB/s (higher is better).
 */
export async function measureP5(options: P5Options = {}): Promise<BenchRow[]> {
  const sizes = options.sizesMiB ?? [5, 50];
  const namespace = options.namespace ?? benchNamespace('p5');
  const driver = benchDriver(namespace);
  const rows: BenchRow[] = [];
  try {
    for (const sizeMiB of sizes) {
      const bytes = Math.round(sizeMiB * 2 ** 20);
      const container = (await driver.runContainer({ id: taskId('logs'), image: BENCH_IMAGE, command: producer(bytes) })) as DockerContainer;
      try {
        const status = await container.wait({ signal: AbortSignal.timeout(120_000) });
        if (status.exitCode !== 0) throw new Error(`the producer ended with ${JSON.stringify(status)}`);
        // This process's CPU share while the driver reads: low means the engine is the bottleneck.
        const cpuShares: number[] = [];
        const samples = await interleave(options.rounds ?? (sizeMiB >= 20 ? 3 : 5), {
          driver: async () => {
            const sink = new CountingWritable();
            const cpu = process.cpuUsage();
            const start = performance.now();
            await container.logs({ follow: true, stdout: sink, signal: AbortSignal.timeout(120_000) });
            const ms = performance.now() - start;
            const used = process.cpuUsage(cpu);
            cpuShares.push((used.user + used.system) / 1000 / ms);
            if (sink.bytes !== bytes) throw new Error(`logs delivered ${sink.bytes} of ${bytes} bytes`);
            return bytes / 2 ** 20 / (ms / 1000);
          },
          cli: () => cliFollow(container.engineId, bytes),
        });
        const d = summarize(samples.driver);
        const c = summarize(samples.cli);
        rows.push({
          id: 'P5',
          scale: `${sizeMiB} MiB`,
          unit: 'MiB/s',
          subject: { label: 'logs({follow:true})', value: d },
          baseline: { label: 'docker logs -f', value: c },
          ratio: ratio(d, c),
          target: targetOf('≥ 1.0×', ratio(d, c), 1.0, 'min'),
          note: `${sizeMiB === sizes[0] ? 'the producer has exited before reading starts, so the figure is the log path itself, not the task; ' : ''}this process used ${Math.round(summarize(cpuShares).median * 100)} % of a core while the driver read (the rest of the time it waited on the engine)`,
        });
      } finally {
        await container.cleanup();
      }
    }
    return rows;
  } finally {
    await driver.close();
  }
}
