import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../../src/errors.js';
import type { BaseDriverOptions } from '../../src/types.js';
import { validateNamespace } from '../../src/validate.js';

/** Options of {@link createNativeDriver}. */
export interface NativeDriverOptions extends BaseDriverOptions {
  /**
   * Host directory under which every namespace keeps its tasks and volumes
   * (`<root>/<namespace>/tasks/…`, `<root>/<namespace>/volumes/…`).
   * @default `<os.tmpdir()>/drivetrain-native`
   */
  root?: string;
  /**
   * `PATH` given to a task whose `env` sets none. Nothing else of the host's
   * environment reaches a task.
   * @default '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
   */
  defaultPath?: string;
  /**
   * How long a stop waits after SIGTERM before it sends SIGKILL to the task's
   * process group, in milliseconds.
   * @default 2000
   */
  stopGraceMs?: number;
  /**
   * How long `runContainer` waits for a task that another caller (or another
   * driver instance) is starting under the same ID before giving up with
   * `StartTimeoutError`, in milliseconds.
   * @default 10000
   */
  startTimeoutMs?: number;
  /**
   * Interval at which a process started by *another* driver instance is checked
   * for liveness, in milliseconds. Own children are followed by their events and
   * never polled.
   * @default 200
   */
  reattachPollMs?: number;
  /**
   * Upper bound of {@link Driver.close}, in milliseconds.
   * @default 10000
   */
  closeTimeoutMs?: number;
  /**
   * How read-only mounts are made. `auto`: a read-only bind mount of the volume when
   * the driver runs as root and may mount, else `copy`. `copy`: a copy of the volume
   * taken at start with every write permission removed, discarded with the task
   * (refuses writes of non-root tasks only; leaves the host's mount table alone).
   * @default 'auto'
   */
  readOnlyMounts?: ReadOnlyMounts;
}

/** How read-only mounts are made; see {@link NativeDriverOptions.readOnlyMounts}. */
export type ReadOnlyMounts = 'auto' | 'copy';

/** The options with every default applied. */
export interface ResolvedNativeOptions {
  namespace: string;
  root: string;
  defaultPath: string;
  stopGraceMs: number;
  startTimeoutMs: number;
  reattachPollMs: number;
  closeTimeoutMs: number;
  readOnlyMounts: ReadOnlyMounts;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Validates the options once, at the factory, naming the offending option. */
export function resolveOptions(options: NativeDriverOptions & { namespace: string }): ResolvedNativeOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidInputError('options', 'an object', options);
  validateNamespace(options.namespace);
  const root = options.root ?? join(tmpdir(), 'drivetrain-native');
  if (typeof root !== 'string' || root.trim() === '' || root.includes('\0')) {
    throw new InvalidInputError('options.root', 'a non-empty directory path', root);
  }
  const defaultPath = options.defaultPath ?? DEFAULT_PATH;
  if (typeof defaultPath !== 'string' || defaultPath.includes('\0')) {
    throw new InvalidInputError('options.defaultPath', 'a PATH string without NUL', defaultPath);
  }
  return {
    namespace: options.namespace,
    root: resolve(root),
    defaultPath,
    stopGraceMs: positive(options.stopGraceMs, 'options.stopGraceMs', 2_000),
    startTimeoutMs: positive(options.startTimeoutMs, 'options.startTimeoutMs', 10_000),
    reattachPollMs: positive(options.reattachPollMs, 'options.reattachPollMs', 200),
    closeTimeoutMs: positive(options.closeTimeoutMs, 'options.closeTimeoutMs', 10_000),
    readOnlyMounts: readOnlyMounts(options.readOnlyMounts),
  };
}

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 2 ** 31 - 1) {
    throw new InvalidInputError(field, 'a positive integer number of milliseconds', value);
  }
  return value;
}

function readOnlyMounts(value: unknown): ReadOnlyMounts {
  if (value === undefined) return 'auto';
  if (value !== 'auto' && value !== 'copy') throw new InvalidInputError('options.readOnlyMounts', '"auto" or "copy"', value);
  return value;
}
