import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { afterEach, beforeEach } from 'vitest';
import type { Driver, DriverCapabilities, Task } from '../../src/types.js';

/** Names of the groups of cases, each of which can be switched off with a reason. */
export type GroupName =
  | 'happyPath'
  | 'stdin'
  | 'exitCodes'
  | 'volumes'
  | 'readFiles'
  | 'environment'
  | 'logs'
  | 'outputBytes'
  | 'workDir'
  | 'enforcement'
  | 'idempotency'
  | 'images'
  | 'close'
  | 'sandbox'
  | 'services'
  | 'invalidInput'
  | 'timeouts'
  | 'tty';

/** Options of {@link import('./index.js').testDriver}. */
export interface TestDriverOptions {
  /** The driver's name, used in the suite's title. */
  name: string;
  /** Makes a fresh driver for `namespace` (a random one per case; reattach cases pass an existing one). */
  create: (namespace: string) => Driver | Promise<Driver>;
  /**
   * Makes a fresh, unique namespace for a case; lets a test run mark all it makes (to tell
   * its resources from those of runs beside it on a shared engine).
   * @default `ct-` and 10 random hex characters
   */
  namespace?: () => string;
  /**
   * Image the cases run. It must provide busybox-like `sh`, `cat`, `echo`, `id`, `md5sum`,
   * `wc`, `env`, `mount` and `sleep` in its `PATH`, run as root by default and have a
   * user 65534. @default 'busybox'
   */
  image?: string;
  /**
   * Groups not to run at all, each with the reason shown in the skipped case's title.
   * Prefer `capabilities`: a group skipped here is a gap in the driver, not a feature.
   */
  skip?: Partial<Record<GroupName, string>>;
  /**
   * Run only these groups (the others are not registered at all), e.g. the cases a second
   * configuration of the same engine needs. @default every group
   */
  only?: readonly GroupName[];
  /**
   * Time budget of one case in milliseconds (operations get a signal that fires then);
   * every other deadline of the suite scales with it. Slow engines (Kubernetes) need more.
   * @default 30000
   */
  timeoutMs?: number;
}

/** What a group of cases gets to work with. */
export interface Harness {
  /** The image every case runs. */
  readonly image: string;
  /** The capabilities the driver declared (read once, before the cases are registered). */
  readonly capabilities: DriverCapabilities;
  /** The time budget of one case in milliseconds. */
  readonly timeoutMs: number;
  /** The case timeout to give `it` (the budget plus room for the driver to report). */
  readonly caseTimeoutMs: number;
  /** `ms` scaled to the engine's speed (the suite's deadlines are written for a 30 s budget). */
  scaled(ms: number): number;
  /** The current case's fresh driver (random namespace). */
  driver(): Driver;
  /** Another driver for this case, closed after it; the case's namespace unless one is given. */
  createDriver(namespace?: string): Promise<Driver>;
  /** A random namespace no other case uses. */
  randomNamespace(): string;
  /** A random task ID with a readable prefix. */
  taskId(prefix: string): string;
  /** A random volume name with a readable prefix. */
  volumeName(prefix: string): string;
  /** Fires when the case's time budget is spent: pass it to every operation. */
  signal(): AbortSignal;
  /** A task of the suite's image with the given ID, command and settings. */
  task(id: string, command: readonly string[], settings?: Omit<Partial<Task>, 'id' | 'command'>): Task;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Registers the hooks that give every case a fresh driver of a random namespace and
 * close every driver the case made afterwards (bounded: a close that hangs fails the case).
 */
export function createHarness(options: TestDriverOptions, capabilities: DriverCapabilities): Harness {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const image = options.image ?? 'busybox';
  const scaled = (ms: number): number => Math.ceil((ms * timeoutMs) / DEFAULT_TIMEOUT_MS);
  const randomNamespace = options.namespace ?? defaultNamespace;
  let current: { driver: Driver; namespace: string; extra: Driver[]; signal: AbortSignal } | undefined;

  const make = async (namespace: string): Promise<Driver> => {
    const driver = await options.create(namespace);
    if (driver.namespace !== namespace) {
      throw new Error(`create(${JSON.stringify(namespace)}) returned a driver of namespace ${JSON.stringify(driver.namespace)}`);
    }
    return driver;
  };
  const active = (): NonNullable<typeof current> => {
    if (current === undefined) throw new Error('the conformance harness is only usable inside a case');
    return current;
  };

  beforeEach(async () => {
    const namespace = randomNamespace();
    const driver = await make(namespace);
    const signal = AbortSignal.timeout(timeoutMs);
    // One case signal serves many concurrent operations (20 racing runs of one ID, say):
    // each holds a listener while in flight, which is expected, not a leak.
    setMaxListeners(100, signal);
    current = { driver, namespace, extra: [], signal };
  });

  afterEach(async () => {
    const done = current;
    current = undefined;
    if (done === undefined) return;
    // One after the other, extra drivers first (they may hold containers of other namespaces):
    // two drivers of one namespace reaping at once is not what this hook is testing.
    const failures: unknown[] = [];
    for (const driver of [...done.extra.reverse(), done.driver]) {
      await driver.close({ signal: AbortSignal.timeout(scaled(20_000)) }).catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw new Error(`close() failed after the case: ${String(failures[0])}`, { cause: failures[0] });
  }, scaled(60_000));

  return {
    image,
    capabilities,
    timeoutMs,
    caseTimeoutMs: timeoutMs + scaled(5_000),
    scaled,
    driver: () => active().driver,
    createDriver: async (namespace) => {
      const state = active();
      const driver = await make(namespace ?? state.namespace);
      state.extra.push(driver);
      return driver;
    },
    randomNamespace,
    taskId: (prefix) => `${prefix}-${randomBytes(5).toString('hex')}`,
    volumeName: (prefix) => `${prefix}-${randomBytes(4).toString('hex')}`,
    signal: () => active().signal,
    task: (id, command, settings = {}) => ({ image, ...settings, id, command }),
  };
}

/** `ct-` and 10 hex characters: valid everywhere a namespace goes, and unique per case. */
export function defaultNamespace(): string {
  return `ct-${randomBytes(5).toString('hex')}`;
}
