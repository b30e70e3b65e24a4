import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { testNamespace } from '../setup/test-run.js';
import { ALL_DRIVERS, openDriver, randomId, sh, type DriverUnderTest } from './drivers.js';

/**
 * The last line always arrives: a follow started right after `runContainer` ends only
 * after every byte the process wrote was delivered — output written in the task's last
 * moment, a final line without a newline, 20 MB without any newline — run after run.
 *
 * `make test` runs each case a few times per driver; `npm run stress:last-line` runs
 * `DRIVETRAIN_STRESS_RUNS` (200) in a row (docs/reliability.md).
 */
const RUNS = Number(process.env.DRIVETRAIN_STRESS_RUNS ?? '5');
/** The 20 MB flood costs seconds a run: once in the suite, every run in the stress script. */
const FLOOD_RUNS = process.env.DRIVETRAIN_STRESS_RUNS === undefined ? 1 : RUNS;
const FLOOD_BYTES = 20_000_000;

/** Counts bytes and checks them against the one byte expected, keeping nothing. */
class CheckingWritable extends Writable {
  bytes = 0;
  others = 0;
  constructor(private readonly expected: number) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    for (const byte of chunk) if (byte !== this.expected) this.others += 1;
    callback();
  }
}

/** stdout of the burst task: 2000 numbered lines, then a last line written just before the exit, without a newline. */
const BURST = `${Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('')}the last line, no newline`;

async function followFromStart(driver: Driver, script: string, stdout: Writable, stderr: Writable, budgetMs: number, run: number): Promise<void> {
  try {
    await followOnce(driver, script, stdout, stderr, budgetMs);
  } catch (error) {
    // Which run of the series failed, and how: a deadline is not a loss.
    throw new Error(`run ${run} of ${RUNS}: ${(error as Error).message}`, { cause: error });
  }
}

async function followOnce(driver: Driver, script: string, stdout: Writable, stderr: Writable, budgetMs: number): Promise<void> {
  const signal = AbortSignal.timeout(budgetMs);
  const container = await driver.runContainer({ id: randomId('last'), image: 'busybox', command: sh(script) }, { signal });
  await container.logs({ stdout, stderr, follow: true, signal });
  expect(await container.status({ signal })).toMatchObject({ done: true, exitCode: 0 });
  await container.cleanup({ signal });
}

describe.each(ALL_DRIVERS)('the last line arrives on $name', (under: DriverUnderTest) => {
  it(`${RUNS} runs in a row: output written in the last moment, ending without a newline on both streams, arrives whole`, { timeout: RUNS * under.budgetMs }, async () => {
    const driver = openDriver(under, testNamespace('rll'));
    for (let run = 1; run <= RUNS; run++) {
      const stdout = new CollectingWritable();
      const stderr = new CollectingWritable();
      await followFromStart(driver, "seq 1 2000; printf 'the last line, no newline'; printf 'err, no newline' >&2", stdout, stderr, under.budgetMs, run);
      expect({ run, stdout: stdout.text(), stderr: stderr.text() }).toEqual({ run, stdout: BURST, stderr: 'err, no newline' });
    }
  });

  it(`${FLOOD_RUNS} run(s) in a row: 20 MB without a newline are followed to the last byte`, { timeout: FLOOD_RUNS * under.budgetMs * 2 }, async () => {
    const driver = openDriver(under, testNamespace('rlf'));
    for (let run = 1; run <= FLOOD_RUNS; run++) {
      const stdout = new CheckingWritable(0x78);
      await followFromStart(driver, `head -c ${FLOOD_BYTES} /dev/zero | tr '\\000' x`, stdout, new CollectingWritable(), under.budgetMs * 2, run);
      expect({ run, bytes: stdout.bytes, others: stdout.others }).toEqual({ run, bytes: FLOOD_BYTES, others: 0 });
    }
  });
});
