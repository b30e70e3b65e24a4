import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidInputError } from './errors.js';
import { RESERVED_LABEL_PREFIX } from './labels.js';
import { defaultWorkDir } from './names.js';
import { validateServices, type ResolvedService } from './services.js';
import { validateTerminalOptions } from './terminal.js';
import type { Limits, Mount, SandboxTask, StdinSource, Task, TerminalSize } from './types.js';

/**
 * Validation shared by every driver, run once at the entry of each public method,
 * before anything is created. Rules are the strictest common denominator of the
 * engines, so a task that passes on a laptop (Docker) passes in production
 * (Kubernetes) too. Env values are never echoed in errors: they may be secrets.
 */

/** A task after validation: defaults applied, mount paths absolute. */
export interface ResolvedTask extends Omit<Task, 'workDir' | 'env' | 'mounts' | 'labels' | 'limits' | 'tty' | 'services'> {
  workDir: string;
  /** `true` when `workDir` was not given and the per-task scratch directory is used. */
  defaultWorkDir: boolean;
  env: Readonly<Record<string, string>>;
  mounts: readonly ResolvedMount[];
  labels: Readonly<Record<string, string>>;
  limits: Limits;
  /** The terminal's first size (`true` resolved to 80×24); absent: no terminal. */
  tty?: TerminalSize;
  services: readonly ResolvedService[];
}

/** A mount with its absolute path. */
export interface ResolvedMount extends Required<Mount> {}

/** Longest task ID accepted. */
export const MAX_TASK_ID_LENGTH = 1024;
/** Largest memory limit accepted (1 TiB): anything above is a unit mistake. */
export const MAX_MEMORY_BYTES = 2 ** 40;
/** Smallest memory limit accepted (6 MiB, Docker's floor). */
export const MIN_MEMORY_BYTES = 6 * 2 ** 20;
/** Docker's CPU shares range. */
export const CPU_SHARES_RANGE = [2, 262_144] as const;

// Docker's reference grammar (distribution/reference), anchored.
const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;
const ENV_KEY = /^[^=\0]+$/;
// A UTF-16 surrogate without its pair: such a string has no UTF-8 form, so every engine would
// get U+FFFD in its place (two IDs would share a name, an argument would change on the way).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` is well-formed Unicode (no lone surrogate), so it survives UTF-8 unchanged. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
const USER = /^(?:\d+(?::\d+)?|[a-z_][a-z0-9_.-]*\$?(?::[a-z_][a-z0-9_.-]*|:\d+)?)$/i;
const VOLUME_NAME = /^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LABEL_VALUE = /^(|[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)$/;

/** Validates a task and applies defaults. Throws {@link InvalidInputError} naming the field. */
export function validateTask(task: unknown): ResolvedTask {
  const t = requireObject(task, 'task') as Partial<Task>;
  validateTaskId(t.id, 'task.id');
  validateImage(t.image, 'task.image');
  validateCommand(t.command, 'task.command');
  return {
    ...resolveCommon(t as SandboxTask),
    command: [...(t.command as string[])],
    stdin: validateStdin(t.stdin, 'task.stdin'),
    timeoutMs: validateTimeout(t.timeoutMs),
    ...validateTerminalOptions(t, 'task'),
  };
}

/** Validates a sandbox task (no command) and applies defaults. */
export function validateSandboxTask(task: unknown): Omit<ResolvedTask, 'command'> {
  const t = requireObject(task, 'task') as Partial<SandboxTask>;
  validateTaskId(t.id, 'task.id');
  validateImage(t.image, 'task.image');
  return resolveCommon(t as SandboxTask);
}

function resolveCommon(t: SandboxTask): Omit<ResolvedTask, 'command'> {
  const workDir = t.workDir === undefined ? defaultWorkDir(t.id) : validateAbsolutePath(t.workDir, 'task.workDir');
  if (t.user !== undefined) validateUser(t.user, 'task.user');
  if (t.privileged !== undefined && typeof t.privileged !== 'boolean') {
    throw new InvalidInputError('task.privileged', 'a boolean', t.privileged);
  }
  return {
    id: t.id,
    image: t.image,
    workDir,
    defaultWorkDir: t.workDir === undefined,
    env: validateEnv(t.env, 'task.env'),
    user: t.user,
    privileged: t.privileged ?? false,
    mounts: validateMounts(t.mounts, workDir),
    limits: validateLimits(t.limits),
    labels: validateLabels(t.labels),
    services: validateServices(t.services),
  };
}

/** A task ID: non-empty, not only white space, no NUL, well-formed Unicode, at most {@link MAX_TASK_ID_LENGTH} characters. */
export function validateTaskId(id: unknown, field = 'id'): asserts id is string {
  if (typeof id !== 'string' || id.trim() === '' || id.includes('\0') || id.length > MAX_TASK_ID_LENGTH || !isWellFormedText(id)) {
    throw new InvalidInputError(field, `a non-empty task ID of well-formed text without NUL, at most ${MAX_TASK_ID_LENGTH} characters`, id);
  }
}

/** An image reference in Docker's grammar (lower-case repository, optional registry, tag and digest). */
export function validateImage(image: unknown, field = 'image'): asserts image is string {
  if (typeof image !== 'string' || image.trim() === '') {
    throw new InvalidInputError(field, 'a non-empty image reference such as "busybox" or "alpine:3.20"', image);
  }
  if (image.length > 4096 || !IMAGE_REFERENCE.test(image)) {
    throw new InvalidInputError(field, 'a valid image reference ([registry/]repository[:tag][@digest], repository in lower case)', image);
  }
}

/** A command (of a task or a sandbox exec): a non-empty array of well-formed strings without NUL, a program name first. */
export function validateCommand(command: unknown, field: string): asserts command is string[] {
  if (!Array.isArray(command) || command.length === 0) {
    throw new InvalidInputError(field, 'a non-empty array of strings, e.g. ["sh", "-c", "echo hello"]', command);
  }
  command.forEach((arg, i) => {
    if (typeof arg !== 'string' || arg.includes('\0') || !isWellFormedText(arg)) {
      throw new InvalidInputError(`${field}[${i}]`, 'a string of well-formed text without NUL', arg);
    }
  });
  if ((command[0] as string).trim() === '') throw new InvalidInputError(`${field}[0]`, 'a program name', command[0]);
}

/** Environment variables: keys non-empty without `=` or NUL, values strings without NUL. Values are never echoed. */
export function validateEnv(env: unknown, field = 'env'): Readonly<Record<string, string>> {
  if (env === undefined) return {};
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    // Not echoed either: a string here is often "NAME=secret".
    throw new InvalidInputError(field, `an object of variable names to string values (got ${Array.isArray(env) ? 'an array' : env === null ? 'null' : typeof env}; not shown)`);
  }
  const record = env as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (!ENV_KEY.test(key) || !isWellFormedText(key)) {
      throw new InvalidInputError(`${field} key ${JSON.stringify(key)}`, 'a non-empty variable name of well-formed text without "=" or NUL');
    }
    if (typeof value !== 'string' || value.includes('\0') || !isWellFormedText(value)) {
      // The value itself is not shown: environment values may be secrets.
      throw new InvalidInputError(`${field}.${key}`, 'a string of well-formed text without NUL (value not shown)');
    }
  }
  return { ...(record as Record<string, string>) };
}

function validateUser(user: unknown, field: string): void {
  if (typeof user !== 'string' || !USER.test(user)) {
    throw new InvalidInputError(field, 'a uid, "uid:gid", or a user name known to the image', user);
  }
}

/** An absolute POSIX path without NUL or `..` segments, normalised. */
export function validateAbsolutePath(path: unknown, field: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || path.split('/').includes('..') || !isWellFormedText(path)) {
    throw new InvalidInputError(field, 'an absolute path of well-formed text without ".." segments', path);
  }
  return posix.normalize(path).replace(/(.)\/$/, '$1');
}

/** A volume name: lower-case letters, digits, `-`, `_` and `.`, 1 to 63 characters, starting and ending alphanumeric. */
export function validateVolumeName(name: unknown, field = 'volume'): asserts name is string {
  if (typeof name !== 'string' || !VOLUME_NAME.test(name)) {
    throw new InvalidInputError(field, 'a volume name of lower-case letters, digits, "-", "_" and ".", 1 to 63 characters, starting and ending with a letter or digit', name);
  }
}

function validateMounts(mounts: unknown, workDir: string): ResolvedMount[] {
  if (mounts === undefined) return [];
  if (!Array.isArray(mounts)) throw new InvalidInputError('task.mounts', 'an array of { volume, path, readOnly? }', mounts);
  const seen = new Map<string, number>();
  return mounts.map((mount: unknown, i) => {
    const field = `task.mounts[${i}]`;
    const m = requireObject(mount, field) as Partial<Mount>;
    validateVolumeName(m.volume, `${field}.volume`);
    if (typeof m.path !== 'string' || m.path.trim() === '' || m.path.includes('\0') || m.path.split('/').includes('..') || !isWellFormedText(m.path)) {
      throw new InvalidInputError(`${field}.path`, 'a non-empty path without ".." segments (absolute, or relative to workDir)', m.path);
    }
    const path = posix.normalize(posix.resolve(workDir, m.path)).replace(/(.)\/$/, '$1');
    if (path === '/') throw new InvalidInputError(`${field}.path`, 'a path other than "/"', m.path);
    const earlier = seen.get(path);
    if (earlier !== undefined) {
      throw new InvalidInputError(`${field}.path`, `a path not already used by task.mounts[${earlier}] (both resolve to ${path})`, m.path);
    }
    seen.set(path, i);
    if (m.readOnly !== undefined && typeof m.readOnly !== 'boolean') {
      throw new InvalidInputError(`${field}.readOnly`, 'a boolean', m.readOnly);
    }
    return { volume: m.volume, path, readOnly: m.readOnly ?? false };
  });
}

function validateLimits(limits: unknown): Limits {
  if (limits === undefined) return {};
  const l = requireObject(limits, 'task.limits') as Limits;
  const [minShares, maxShares] = CPU_SHARES_RANGE;
  if (l.cpuShares !== undefined && !(Number.isInteger(l.cpuShares) && l.cpuShares >= minShares && l.cpuShares <= maxShares)) {
    throw new InvalidInputError('task.limits.cpuShares', `an integer from ${minShares} to ${maxShares} (1024 = one CPU's share)`, l.cpuShares);
  }
  if (l.memoryBytes !== undefined && !(Number.isInteger(l.memoryBytes) && l.memoryBytes >= MIN_MEMORY_BYTES && l.memoryBytes <= MAX_MEMORY_BYTES)) {
    throw new InvalidInputError('task.limits.memoryBytes', `an integer number of bytes from ${MIN_MEMORY_BYTES} (6 MiB) to ${MAX_MEMORY_BYTES} (1 TiB)`, l.memoryBytes);
  }
  return { ...l };
}

function validateLabels(labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  const record = requireObject(labels, 'task.labels');
  for (const [key, value] of Object.entries(record)) {
    const field = `task.labels[${JSON.stringify(key)}]`;
    if (key.startsWith(RESERVED_LABEL_PREFIX)) throw new InvalidInputError(field, `a key not starting with "${RESERVED_LABEL_PREFIX}" (reserved)`, key);
    const slash = key.lastIndexOf('/');
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    const name = slash === -1 ? key : key.slice(slash + 1);
    if (!LABEL_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix)))) {
      throw new InvalidInputError(field, 'a Kubernetes label key: [prefix/]name, name of letters, digits, "-", "_", "." up to 63 characters', key);
    }
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new InvalidInputError(field, 'a label value of letters, digits, "-", "_", "." up to 63 characters', value);
    }
  }
  return { ...(record as Record<string, string>) };
}

/** Standard input in one of the accepted forms ({@link StdinSource}). */
export function validateStdin(stdin: unknown, field: string): StdinSource | undefined {
  if (stdin === undefined || typeof stdin === 'string' || stdin instanceof Uint8Array || stdin instanceof Readable) return stdin as StdinSource | undefined;
  if (typeof stdin === 'object' && stdin !== null && Symbol.asyncIterator in stdin) return stdin as StdinSource;
  throw new InvalidInputError(field, 'a string, a Uint8Array, a Readable or an async iterable of bytes', stdin);
}

function validateTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new InvalidInputError('task.timeoutMs', 'a positive integer number of milliseconds (at most 2^31-1)', timeoutMs);
  }
  return timeoutMs;
}

/**
 * A drivetrain namespace (see `BaseDriverOptions.namespace`). No `--`: engines' object names
 * join the namespace and the sanitised ID with `--`, which sanitised IDs never contain, so
 * names of different namespaces can never meet (`ci` + `main-build`, `ci-main` + `build`).
 */
export function validateNamespace(namespace: unknown, field = 'options.namespace'): asserts namespace is string {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace) || namespace.includes('--')) {
    throw new InvalidInputError(field, 'lower-case letters, digits and "-" (not first or last, never two in a row), 1 to 40 characters', namespace);
  }
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(field, 'an object', value);
  return value as Record<string, unknown>;
}
