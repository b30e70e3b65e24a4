import { InvalidInputError } from '../errors.js';
import { createDriver } from '../registry.js';
import { validateNamespace } from '../validate.js';
import { EXIT } from './exit-codes.js';
import { defaultDriverName } from './pick-driver.js';
import { reportError } from './report-error.js';
import { UsageError, driverOption, parseCommandLine } from './usage.js';

export const CLEANUP_USAGE = `Usage: drivetrain cleanup --namespace NAME [--driver NAME]
       drivetrain cleanup --orphans [--unowned] [--driver NAME]

Removes every container, volume and helper that drivetrain left in namespace NAME
(after a crashed run, or the volumes \`run --namespace NAME\` keeps): creates the driver
with that namespace and closes it. With --orphans, removes every namespace on the engine
whose owner is gone (an expired Lease, a dead process on this host, a stale heartbeat),
never one whose owner lives, and prints each one removed.

Options:
  --namespace NAME     the namespace to reap
  --orphans            reap the namespaces whose owner is gone
  --unowned            with --orphans: also the namespaces with no owner record at all
                       (left before owner records, or by drivers with ownerRecord: false)
  --driver NAME        docker, native or k8s (default: docker when an engine answers, else native)
  -h, --help           show this help

Exit codes: 0 when done (also when nothing was left), 1 on a drivetrain error, 2 for bad usage.
`;

/** Upper bound of the whole cleanup, in milliseconds (the drivers bound `close` themselves too). */
const CLEANUP_TIMEOUT_MS = 120_000;

/** `drivetrain cleanup`: reaps what a namespace left behind. */
export async function cleanupCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { namespace: { type: 'string' }, driver: { type: 'string' }, orphans: { type: 'boolean' }, unowned: { type: 'boolean' } }, CLEANUP_USAGE);
  if (values.help === true) {
    process.stdout.write(CLEANUP_USAGE);
    return EXIT.ok;
  }
  if (values.orphans === true && values.namespace !== undefined) throw new UsageError('--orphans and --namespace exclude each other', CLEANUP_USAGE);
  if (values.unowned === true && values.orphans !== true) throw new UsageError('--unowned goes with --orphans', CLEANUP_USAGE);
  if (values.orphans === true) return reapOrphans(driverOption(values.driver, CLEANUP_USAGE), values.unowned === true);
  if (values.namespace === undefined) throw new UsageError('missing --namespace (or --orphans)', CLEANUP_USAGE);
  try {
    validateNamespace(values.namespace);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new UsageError(`invalid --namespace ${JSON.stringify(values.namespace)}: expected ${error.expected}`, CLEANUP_USAGE);
  }
  const requested = driverOption(values.driver, CLEANUP_USAGE);
  try {
    const driverName = requested ?? (await defaultDriverName());
    // The cleanup's own driver holds no owner record and leaves other namespaces to `--orphans`.
    const driver = await createDriver(driverName, { namespace: values.namespace, ownerRecord: false, reapOrphans: false });
    // `close` reports nothing in the contract; a driver that returns a list of what it removed gets it printed.
    const removed: unknown = await driver.close({ signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
    if (Array.isArray(removed)) for (const item of removed) process.stdout.write(`removed ${String(item)}\n`);
    process.stdout.write(`cleaned up namespace "${driver.namespace}" with the ${driver.name} driver\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError(error);
  }
}

/** `drivetrain cleanup --orphans`: reaps, through a driver of a throwaway namespace, every namespace whose owner is gone. */
async function reapOrphans(requested: string | undefined, unowned: boolean): Promise<number> {
  try {
    const driverName = requested ?? (await defaultDriverName());
    const driver = await createDriver(driverName, { ownerRecord: false, reapOrphans: false });
    try {
      if (driver.reapOrphans === undefined) throw new UsageError(`the ${driver.name} driver keeps no owner records: name a --namespace instead`, CLEANUP_USAGE);
      const reaped = await driver.reapOrphans({ signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS), unowned });
      for (const namespace of reaped) process.stdout.write(`reaped orphaned namespace "${namespace}"\n`);
      process.stdout.write(`${reaped.length} orphaned namespace(s) reaped with the ${driver.name} driver\n`);
    } finally {
      await driver.close({ signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return reportError(error);
  }
}
