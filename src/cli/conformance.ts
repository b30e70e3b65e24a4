import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseRows, formatTable, type CaseRow } from './conformance-report.js';
import { EXIT } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { UsageError, driverOption, parseCommandLine } from './usage.js';

export const CONFORMANCE_USAGE = `Usage: drivetrain conformance --driver NAME

Runs the conformance suite (drivetrain/conformance) against one built-in driver in
the environment it finds, with vitest, and prints a table of the cases: case, result,
duration. Needs vitest installed next to drivetrain (npm install --save-dev vitest).
docker uses the engine at DOCKER_HOST (the busybox image is pulled when missing);
k8s the cluster of KUBECONFIG, else ~/.kube/config; native needs no engine.
Namespaces start with $DRIVETRAIN_NAMESPACE_PREFIX when set.

Options:
  --driver NAME     docker, native or k8s (required)
  -h, --help        show this help

Exit codes: 0 when every case passed, 1 when any failed or the suite could not run, 2 for bad usage.
`;

/** The folder of the runner's vitest config and suite file, in the checkout (src) and the package (dist) alike. */
const RUNNER_DIR = fileURLToPath(new URL('../../test/conformance/run/', import.meta.url));

/** `drivetrain conformance`: the suite for one driver, as a pass/fail table. */
export async function conformanceCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { driver: { type: 'string' } }, CONFORMANCE_USAGE);
  if (values.help === true) {
    process.stdout.write(CONFORMANCE_USAGE);
    return EXIT.ok;
  }
  const driver = driverOption(values.driver, CONFORMANCE_USAGE);
  if (driver === undefined) throw new UsageError('missing --driver', CONFORMANCE_USAGE);
  const vitest = vitestEntry();
  if (vitest === undefined) {
    process.stderr.write('drivetrain: the conformance suite runs on vitest, which is not installed here: npm install --save-dev vitest\n');
    return EXIT.failure;
  }
  const config = ['vitest.config.js', 'vitest.config.ts'].map((file) => join(RUNNER_DIR, file)).find((file) => existsSync(file));
  if (config === undefined) {
    process.stderr.write(`drivetrain: the conformance runner is missing from ${RUNNER_DIR} (a broken install?)\n`);
    return EXIT.failure;
  }
  const outDir = await mkdtemp(join(tmpdir(), 'drivetrain-conformance-'));
  const interrupts = watchInterrupts();
  try {
    const reportFile = join(outDir, 'report.json');
    const vitestCode = await runVitest(vitest, config, reportFile, driver, interrupts.signal);
    if (interrupts.exitCode !== undefined) return interrupts.exitCode;
    let rows: CaseRow[];
    try {
      rows = caseRows(JSON.parse(await readFile(reportFile, 'utf8')));
    } catch (error) {
      process.stderr.write(`drivetrain: vitest exited with ${vitestCode} and left no readable report (${(error as Error).message})\n`);
      return EXIT.failure;
    }
    process.stdout.write(formatTable(rows));
    const failed = rows.some((r) => r.result === 'failed');
    return failed || rows.length === 0 || vitestCode !== 0 ? EXIT.failure : EXIT.ok;
  } finally {
    interrupts.dispose();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** vitest's command-line entry, resolved from where drivetrain is (the project's own vitest); undefined when missing. */
function vitestEntry(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('vitest/package.json');
    const entry = join(dirname(manifest), 'vitest.mjs');
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs vitest on this Node with the runner's config and the JSON reporter writing to
 * `reportFile`; resolves with its exit code (1 when killed). When `signal` fires, vitest
 * gets SIGINT so that it tears its set-up down.
 */
function runVitest(vitest: string, config: string, reportFile: string, driver: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', config, '--root', dirname(config), '--reporter=json', `--outputFile=${reportFile}`], {
      cwd: dirname(config),
      env: { ...process.env, DRIVETRAIN_CONFORMANCE_DRIVER: driver },
      // The report goes to the file; vitest's own errors (a broken setup) stay visible.
      stdio: ['ignore', 'ignore', 'inherit'],
      signal,
      killSignal: 'SIGINT',
    });
    // An abort surfaces as an 'error' (AbortError) before 'close': the exit code decides.
    child.once('error', (error) => {
      if (!signal.aborted) reject(error);
    });
    child.once('close', (code) => resolve(code ?? EXIT.failure));
  });
}
