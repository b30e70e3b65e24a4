import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../../src/errors.js';
import { oneOf, optionsObject, positiveInteger, resolveBaseOptions } from '../../src/kit/options.js';
import { resolveOwnerOptions, type OwnerOptions, type ResolvedOwnerOptions } from '../../src/kit/owner.js';
import type { BaseDriverOptions, Logger } from '../../src/types.js';

/** Options of {@link createNativeDriver}. */
export interface NativeDriverOptions extends BaseDriverOptions, OwnerOptions {
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
   * Upper bound of {@link Driver.close}, in milliseconds: past it, `close` rejects with
   * `CloseTimeoutError` and a later `close` removes what is left.
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
export interface ResolvedNativeOptions extends ResolvedOwnerOptions {
  namespace: string;
  logger: Logger | undefined;
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
export function resolveOptions(given: NativeDriverOptions | undefined): ResolvedNativeOptions {
  const options = optionsObject(given);
  const { namespace, logger } = resolveBaseOptions(options);
  const root = options.root ?? join(tmpdir(), 'drivetrain-native');
  if (typeof root !== 'string' || root.trim() === '' || root.includes('\0')) {
    throw new InvalidInputError('options.root', 'a non-empty directory path', root);
  }
  const defaultPath = options.defaultPath ?? DEFAULT_PATH;
  if (typeof defaultPath !== 'string' || defaultPath.includes('\0')) {
    throw new InvalidInputError('options.defaultPath', 'a PATH string without NUL', defaultPath);
  }
  return {
    namespace,
    logger,
    root: resolve(root),
    defaultPath,
    stopGraceMs: positiveInteger(options.stopGraceMs, 'options.stopGraceMs', 2_000),
    startTimeoutMs: positiveInteger(options.startTimeoutMs, 'options.startTimeoutMs', 10_000),
    reattachPollMs: positiveInteger(options.reattachPollMs, 'options.reattachPollMs', 200),
    closeTimeoutMs: positiveInteger(options.closeTimeoutMs, 'options.closeTimeoutMs', 10_000),
    readOnlyMounts: oneOf(options.readOnlyMounts, 'options.readOnlyMounts', ['auto', 'copy'] as const, 'auto'),
    ...resolveOwnerOptions(options),
  };
}
