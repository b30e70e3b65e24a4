import type Dockerode from 'dockerode';
import { dockerodeClass } from './sdk.js';
import type { DoctorCheck, DoctorOptions, DoctorReport } from '../../src/types.js';
import { statusCodeOf } from './engine-errors.js';

/** The image the tests and `drivetrain demo` use. */
const TEST_IMAGE = 'busybox:latest';
/** How long each engine call may take by default, in milliseconds. */
const CHECK_TIMEOUT_MS = 5000;
/** How long {@link available} waits for the engine by default, in milliseconds. */
const PING_TIMEOUT_MS = 1500;

/**
 * Checks the Docker driver's environment with a client built as the driver builds it (from
 * `DOCKER_HOST`, …): the engine answers, its version, whether the busybox test image is
 * present. Never throws: problems are reported.
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const docker = new (dockerodeClass())({ timeout: options.timeoutMs ?? CHECK_TIMEOUT_MS });
  const checks: DoctorCheck[] = [];
  try {
    await docker.ping();
    checks.push({ name: 'engine', ok: true, detail: 'answers /_ping' });
  } catch (error) {
    const engine: DoctorCheck = { name: 'engine', ok: false, detail: `no answer (${messageOf(error)}); \`make infra\` starts one` };
    return { ok: false, checks: [engine], blockedBy: engine };
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
    const missing = statusCodeOf(error) === 404;
    checks.push({ name: 'test image', ok: false, detail: missing ? `${TEST_IMAGE} missing; \`make infra\` builds it` : messageOf(error) });
  }
  return { ok: checks.every((check) => check.ok !== false), checks };
}

/** Whether a Docker engine answers `/_ping` within a short time; any failure means "no engine". */
export async function available(options: DoctorOptions = {}): Promise<boolean> {
  try {
    // The modem's timeout bounds the request; an unreachable socket fails at once anyway.
    await new (dockerodeClass())({ timeout: options.timeoutMs ?? PING_TIMEOUT_MS }).ping();
    return true;
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
