import { EXIT } from './exit-codes.js';
import { reportError } from './report-error.js';
import { driverOption, parseCommandLine } from './usage.js';

export const DOCTOR_USAGE = `Usage: drivetrain doctor [--driver docker|k8s]

Checks that a driver's environment works.
  docker (default)  the engine answers, its version, whether the busybox test image is present
  k8s               the Kubernetes driver's own checks: kubeconfig, API server, permissions

Options:
  --driver NAME     docker or k8s (default: docker)
  -h, --help        show this help

Exit codes: 0 when every check passed, 1 when one failed, 2 for bad usage.
`;

/** The image the tests and `drivetrain demo` use. */
const TEST_IMAGE = 'busybox:latest';
/** How long each engine call may take, in milliseconds. */
const CHECK_TIMEOUT_MS = 5000;

/** One line of a report: `ok: null` when it could not be verified. */
interface Check {
  name: string;
  ok: boolean | null;
  detail: string;
}

/** `drivetrain doctor`: prints what works and what does not. */
export async function doctorCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandLine(args, { driver: { type: 'string' } }, DOCTOR_USAGE);
  if (values.help === true) {
    process.stdout.write(DOCTOR_USAGE);
    return EXIT.ok;
  }
  const driver = driverOption(values.driver, DOCTOR_USAGE, ['docker', 'k8s']) ?? 'docker';
  try {
    return driver === 'docker' ? printChecks(await dockerChecks()) : await k8sDoctor();
  } catch (error) {
    return reportError(error);
  }
}

async function dockerChecks(): Promise<Check[]> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ timeout: CHECK_TIMEOUT_MS });
  const checks: Check[] = [];
  try {
    await docker.ping();
    checks.push({ name: 'engine', ok: true, detail: 'answers /_ping' });
  } catch (error) {
    checks.push({ name: 'engine', ok: false, detail: `no answer (${messageOf(error)}); \`make infra\` starts one` });
    return checks;
  }
  try {
    const version = await docker.version();
    checks.push({ name: 'version', ok: true, detail: `Docker ${version.Version} (API ${version.ApiVersion}, ${version.Os}/${version.Arch})` });
  } catch (error) {
    checks.push({ name: 'version', ok: false, detail: messageOf(error) });
  }
  try {
    const image = await docker.getImage(TEST_IMAGE).inspect();
    checks.push({ name: 'test image', ok: true, detail: `${TEST_IMAGE} present (${image.Id.slice(0, 19)})` });
  } catch (error) {
    const missing = (error as { statusCode?: unknown }).statusCode === 404;
    checks.push({ name: 'test image', ok: false, detail: missing ? `${TEST_IMAGE} missing; \`make infra\` builds it` : messageOf(error) });
  }
  return checks;
}

async function k8sDoctor(): Promise<number> {
  const k8s = (await import('../../drivers/k8s/index.js')) as Record<string, unknown>;
  const doctor = k8s['doctor'];
  if (typeof doctor !== 'function') {
    process.stdout.write('k8s doctor: not available in this build of the Kubernetes driver\n');
    return EXIT.failure;
  }
  const report = (await doctor()) as { ok?: unknown; context?: unknown; server?: unknown; kubernetesNamespace?: unknown; checks?: unknown };
  const checks = Array.isArray(report.checks) ? (report.checks as Check[]) : [];
  const where = [['server', report.server], ['context', report.context], ['namespace', report.kubernetesNamespace]]
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${String(key)} ${String(value)}`)
    .join(', ');
  // No cluster to talk to: that one line is the whole report (the rest could not even be tried).
  const blocking = checks.find((check) => check.ok === false && (check.name === 'kubeconfig' || check.name === 'reachability'));
  if (blocking !== undefined) {
    process.stdout.write(`FAIL ${blocking.name}: ${blocking.detail}${where === '' ? '' : ` (${where})`}\n`);
    return EXIT.failure;
  }
  if (where !== '') process.stdout.write(`${where}\n`);
  const code = printChecks(groupUnverified(checks));
  return report.ok === false ? EXIT.failure : code;
}

/**
 * Unverifiable checks that share one reason (every permission on a server without
 * SelfSubjectAccessReview) become one line naming how many and which, first to last.
 */
function groupUnverified(checks: readonly Check[]): Check[] {
  const grouped: Check[] = [];
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
function printChecks(checks: readonly Check[]): number {
  for (const check of checks) {
    const mark = check.ok === true ? 'ok  ' : check.ok === false ? 'FAIL' : '??  ';
    process.stdout.write(`${mark} ${check.name}: ${check.detail}\n`);
  }
  return checks.some((check) => check.ok === false) ? EXIT.failure : EXIT.ok;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
