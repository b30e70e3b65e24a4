/**
 * drivetrain's conformance suite: the behaviour every {@link Driver} must show, as vitest
 * cases. A driver's test file calls {@link testDriver} in a few lines:
 *
 * ```ts
 * import { testDriver } from 'drivetrain/conformance';
 * import { createMyDriver } from '../src/index.js';
 * testDriver({ name: 'mine', create: (namespace) => createMyDriver({ namespace }) });
 * ```
 *
 * Every case gets a fresh driver of a random namespace and closes it afterwards, and uses
 * random task IDs, so test files run concurrently. Cases a driver cannot support are
 * skipped through its `capabilities` only, with a title that says why.
 *
 * It runs inside the caller's own vitest (an optional peer dependency of the package):
 * the reference below makes a TypeScript project without vitest fail to compile against
 * these declarations (unless it skips checking them), not only fail when it runs.
 */
/// <reference types="vitest" preserve="true" />
import { describe, it } from 'vitest';
import type { DriverCapabilities } from '../../src/types.js';
import { closeCases } from './close.js';
import { enforcementCases } from './enforcement.js';
import { environmentCases } from './environment.js';
import { exitCodeCases } from './exit-codes.js';
import { createHarness, defaultNamespace } from './harness.js';
import type { GroupName, Harness, TestDriverOptions } from './harness.js';
import { happyPathCases } from './happy-path.js';
import { idempotencyCases } from './idempotency.js';
import { imageCases } from './images.js';
import { invalidInputCases } from './invalid-input.js';
import { logCases } from './logs.js';
import { outputBytesCases } from './output-bytes.js';
import { readFileCases } from './read-files.js';
import { sandboxCases } from './sandbox.js';
import { servicesCases } from './services.js';
import { stdinCases } from './stdin.js';
import { timeoutCases } from './timeouts.js';
import { ttyCases } from './tty.js';
import { volumeCases } from './volumes.js';
import { workDirCases } from './work-dir.js';

export type { GroupName, Harness, TestDriverOptions } from './harness.js';

/** Every group, in the order they are registered, with the function that registers its cases. */
export const GROUPS: Readonly<Record<GroupName, (h: Harness) => void>> = {
  happyPath: happyPathCases,
  stdin: stdinCases,
  exitCodes: exitCodeCases,
  volumes: volumeCases,
  readFiles: readFileCases,
  environment: environmentCases,
  logs: logCases,
  outputBytes: outputBytesCases,
  workDir: workDirCases,
  enforcement: enforcementCases,
  idempotency: idempotencyCases,
  images: imageCases,
  close: closeCases,
  sandbox: sandboxCases,
  services: servicesCases,
  invalidInput: invalidInputCases,
  timeouts: timeoutCases,
  tty: ttyCases,
};

/**
 * Registers the conformance cases for one driver under `describe('conformance: <name>')`.
 * The driver's capabilities are read from one probe driver before the cases are registered
 * (it is closed at once), so skipped cases show in the report with their reason.
 */
export function testDriver(options: TestDriverOptions): void {
  describe(`conformance: ${options.name}`, async () => {
    const capabilities = await readCapabilities(options);
    const harness = createHarness(options, capabilities);
    for (const [group, register] of Object.entries(GROUPS) as Array<[GroupName, (h: Harness) => void]>) {
      if (options.only !== undefined && !options.only.includes(group)) continue;
      const reason = options.skip?.[group];
      if (reason === undefined) register(harness);
      else it.skip(`${group} (not run: ${reason})`, () => {});
    }
  });
}

async function readCapabilities(options: TestDriverOptions): Promise<DriverCapabilities> {
  const probe = await options.create((options.namespace ?? defaultNamespace)());
  try {
    return structuredClone(probe.capabilities);
  } finally {
    await probe.close({ signal: AbortSignal.timeout(30_000) });
  }
}
