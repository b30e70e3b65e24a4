import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseRows, formatTable, type CaseRow } from './conformance-report.js';
import { EXIT } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { packageRoot } from './package-root.js';
import { UsageError, driverOption, parseCommandLine } from './usage.js';

export const CONFORMANCE_USAGE = `Usage: drivetrain conformance --driver NAME

Runs the conformance suite (test/drivers/NAME.test.ts, with vitest) against the
configured environment and prints a table of the cases: case, result, duration.
Needs the repository checkout with its dev dependencies (npm ci) and a Docker
engine (\`make infra\`); the k8s suite starts the local Kubernetes API server itself,
or targets a real cluster when KUBECONFIG is set.

Options:
  --driver NAME     docker, native or k8s (required)
  -h, --help        show this help

Exit codes: 0 when every case passed, 1 when any failed or the suite could not run, 2 for bad usage.
`;

/** `drivetrain conformance`: the suite for one driver, as a pass/fail table. */
export async function conformanceCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { driver: { type: 'string' } }, CONFORMANCE_USAGE);
  if (values.help === true) {
    process.stdout.write(CONFORMANCE_USAGE);
    return EXIT.ok;
  }
  const driver = driverOption(values.driver, CONFORMANCE_USAGE);
  if (driver === undefined) throw new UsageError('missing --driver', CONFORMANCE_USAGE);
  const root = packageRoot();
  const testFile = join('test', 'drivers', `${driver}.test.ts`);
  if (root === undefined || !existsSync(join(root, testFile))) {
    process.stderr.write(`drivetrain: the conformance suite needs the repository checkout (${testFile} not found)\n`);
    return EXIT.failure;
  }
  const outDir = await mkdtemp(join(tmpdir(), 'drivetrain-conformance-'));
  const interrupts = watchInterrupts();
  try {
    const reportFile = join(outDir, 'report.json');
    const vitestCode = await runVitest(root, testFile, reportFile, driver, interrupts.signal);
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

/**
 * Runs vitest with the JSON reporter writing to `reportFile`; resolves with its exit code
 * (1 when killed). When `signal` fires, vitest gets SIGINT so that it tears its set-up down.
 */
function runVitest(root: string, testFile: string, reportFile: string, driver: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['vitest', 'run', testFile, '--reporter=json', `--outputFile=${reportFile}`], {
      cwd: root,
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
