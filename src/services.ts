import { InvalidInputError, NotFoundError, UnsupportedCapabilityError } from './errors.js';
import type { DriverCapabilities, Service } from './types.js';
import { validateCommand, validateEnv, validateImage } from './validate.js';

/**
 * Validation and shared rules of service containers (`Task.services`), the same for
 * every driver so that a task accepted on one is accepted on all.
 */

/** A service after validation: defaults applied. */
export interface ResolvedService {
  name: string;
  image: string;
  /** `undefined`: the image's own entrypoint and command. */
  command: readonly string[] | undefined;
  env: Readonly<Record<string, string>>;
  ready: ResolvedReadiness | undefined;
}

/** A readiness check with its timeout resolved. */
export type ResolvedReadiness = ({ tcpPort: number } | { command: readonly string[] }) & { timeoutMs: number };

/** Default readiness timeout of a service, in milliseconds. */
export const DEFAULT_SERVICE_READY_TIMEOUT_MS = 60_000;
/** How often a readiness check is tried, in milliseconds. */
export const SERVICE_READY_INTERVAL_MS = 250;
/** Most services one task may have. */
export const MAX_SERVICES = 16;

// A DNS label short enough to be part of every engine's object names; never `task`, the task's own container in a pod.
const SERVICE_NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const RESERVED_NAMES = new Set(['task']);

/** Validates `task.services`. Throws {@link InvalidInputError} naming the field. */
export function validateServices(services: unknown, field = 'task.services'): ResolvedService[] {
  if (services === undefined) return [];
  if (!Array.isArray(services)) throw new InvalidInputError(field, 'an array of { name, image, command?, env?, ready? }', services);
  if (services.length > MAX_SERVICES) throw new InvalidInputError(field, `at most ${MAX_SERVICES} services`, `${services.length} services`);
  const seen = new Set<string>();
  return services.map((raw: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidInputError(at, 'an object { name, image, command?, env?, ready? }', raw);
    const s = raw as Partial<Service>;
    if (typeof s.name !== 'string' || !SERVICE_NAME.test(s.name) || s.name.includes('--') || RESERVED_NAMES.has(s.name)) {
      throw new InvalidInputError(`${at}.name`, 'lower-case letters, digits and "-" (a letter first, never "--"), 1 to 40 characters, not "task"', s.name);
    }
    if (seen.has(s.name)) throw new InvalidInputError(`${at}.name`, 'a name no other service of the task has', s.name);
    seen.add(s.name);
    validateImage(s.image, `${at}.image`);
    if (s.command !== undefined) validateCommand(s.command, `${at}.command`);
    return {
      name: s.name,
      image: s.image,
      command: s.command === undefined ? undefined : [...s.command],
      env: validateEnv(s.env, `${at}.env`),
      ready: validateReadiness(s.ready, `${at}.ready`),
    };
  });
}

function validateReadiness(ready: unknown, field: string): ResolvedReadiness | undefined {
  if (ready === undefined) return undefined;
  if (typeof ready !== 'object' || ready === null || Array.isArray(ready)) throw new InvalidInputError(field, 'an object { tcpPort } or { command }, with an optional timeoutMs', ready);
  const r = ready as { tcpPort?: unknown; command?: unknown; timeoutMs?: unknown };
  const timeoutMs = r.timeoutMs ?? DEFAULT_SERVICE_READY_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new InvalidInputError(`${field}.timeoutMs`, 'a positive integer number of milliseconds (at most 2^31-1)', r.timeoutMs);
  }
  if ((r.tcpPort === undefined) === (r.command === undefined)) throw new InvalidInputError(field, 'exactly one of tcpPort or command', ready);
  if (r.command !== undefined) {
    validateCommand(r.command, `${field}.command`);
    return { command: [...r.command], timeoutMs };
  }
  if (typeof r.tcpPort !== 'number' || !Number.isInteger(r.tcpPort) || r.tcpPort < 1 || r.tcpPort > 65_535) {
    throw new InvalidInputError(`${field}.tcpPort`, 'a TCP port number from 1 to 65535', r.tcpPort);
  }
  return { tcpPort: r.tcpPort, timeoutMs };
}

/** The service `name` of a task's services, or `NotFoundError` listing the ones it has. */
export function findService<S extends { name: string }>(services: readonly S[], name: unknown, taskId: string): S {
  if (typeof name !== 'string') throw new InvalidInputError('options.service', 'a service name', name);
  const found = services.find((s) => s.name === name);
  if (found !== undefined) return found;
  const have = services.length === 0 ? 'it has none' : `its services: ${services.map((s) => s.name).join(', ')}`;
  throw new NotFoundError(`task "${taskId}" has no service "${name}" (${have})`, { code: 'ERR_SERVICE_NOT_FOUND' });
}

/** Refuses services on a driver without `capabilities.services`, before anything is created. */
export function assertServicesSupported(driver: string, capabilities: Pick<DriverCapabilities, 'services'>, task: { services: readonly unknown[] }): void {
  if (task.services.length > 0 && !capabilities.services) throw new UnsupportedCapabilityError(driver, 'services', 'run service containers (task.services)');
}
