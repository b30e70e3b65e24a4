import { doctorOf } from '../registry.js';
import type { DoctorCheck } from '../types.js';
import { EXIT } from './exit-codes.js';
import { reportError } from './report-error.js';
import { driverOption, parseCommandLine } from './usage.js';

export const DOCTOR_USAGE = `Usage: drivetrain doctor [--driver docker|k8s]

Checks that a driver's environment works.
  docker (default)  the engine answers, its version, whether the busybox test image is present
  k8s               the Kubernetes driver's own checks: kubeconfig, API server version, log
                    streams, storage class, Pod Security, permissions, exec protocol

Options:
  --driver NAME     docker or k8s (default: docker)
  -h, --help        show this help

Exit codes: 0 when every check passed, 1 when one failed, 2 for bad usage.
`;

/** `drivetrain doctor`: prints what works and what does not. */
export async function doctorCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { driver: { type: 'string' } }, DOCTOR_USAGE);
  if (values.help === true) {
    process.stdout.write(DOCTOR_USAGE);
    return EXIT.ok;
  }
  const driver = driverOption(values.driver, DOCTOR_USAGE, ['docker', 'k8s']) ?? 'docker';
  try {
    return await printReport(driver);
  } catch (error) {
    return reportError(error);
  }
}

/** Runs the driver's own doctor (in its folder, loaded through the registry) and prints its report. */
async function printReport(driver: string): Promise<number> {
  const doctor = await doctorOf(driver);
  if (doctor === undefined) {
    process.stdout.write(`${driver} doctor: the driver has no checks of its environment\n`);
    return EXIT.failure;
  }
  const report = await doctor();
  const where = report.where ?? '';
  // No engine to talk to: that one line is the whole report (the rest could not even be tried).
  if (report.blockedBy !== undefined) {
    process.stdout.write(`FAIL ${report.blockedBy.name}: ${report.blockedBy.detail}${where === '' ? '' : ` (${where})`}\n`);
    return EXIT.failure;
  }
  if (where !== '') process.stdout.write(`${where}\n`);
  const code = printChecks(groupUnverified(report.checks));
  return report.ok ? code : EXIT.failure;
}

/**
 * Unverifiable checks that share one reason (every permission on a server without
 * SelfSubjectAccessReview) become one line naming how many and which, first to last.
 */
function groupUnverified(checks: readonly DoctorCheck[]): DoctorCheck[] {
  const grouped: DoctorCheck[] = [];
  for (const check of checks) {
    const same = check.ok === null ? checks.filter((other) => other.ok === null && other.detail === check.detail) : [];
    if (same.length < 2) grouped.push(check);
    else if (same[0] === check) {
      grouped.push({ name: `${same.length} checks (${same[0].name} … ${same[same.length - 1]!.name})`, ok: null, detail: check.detail });
    }
  }
  return grouped;
}

/** Prints one line per check and returns 1 when any failed (unverifiable ones do not fail). */
function printChecks(checks: readonly DoctorCheck[]): number {
  for (const check of checks) {
    const mark = check.ok === true ? 'ok  ' : check.ok === false ? 'FAIL' : '??  ';
    process.stdout.write(`${mark} ${check.name}: ${check.detail}\n`);
  }
  return checks.some((check) => check.ok === false) ? EXIT.failure : EXIT.ok;
}

