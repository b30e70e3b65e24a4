import { createRequire } from 'node:module';
import { ConflictError, InvalidInputError, MissingDependencyError } from './errors.js';
import { randomNamespace } from './kit/options.js';
import type { BaseDriverOptions, DoctorOptions, DoctorReport, Driver, DriverEntry, DriverFactory, DriverOptionsByName } from './types.js';
import { validateNamespace } from './validate.js';

export type { DriverFactory } from './types.js';
export { randomNamespace } from './kit/options.js';

/**
 * The built-in drivers' entry points, by name: the modules the package exports as
 * `drivetrain/docker`, `drivetrain/native` and `drivetrain/k8s` (package.json `exports`; a
 * test keeps the two in step). Each is imported only when its driver is first asked for, so
 * `import 'drivetrain'` loads no driver and no SDK, and no driver imports this registry.
 */
export const BUILT_IN_ENTRY_POINTS: Readonly<Record<string, string>> = {
  docker: '../drivers/docker/index.js',
  native: '../drivers/native/index.js',
  k8s: '../drivers/k8s/index.js',
};

/**
 * The imports of {@link BUILT_IN_ENTRY_POINTS}, spelled out: a bundler (the CLI's bundle,
 * `npm run build`) follows only an `import()` of a literal, and the CLI then loads its
 * driver from the bundle in one file instead of ~50 modules (docs/performance.md, P8).
 */
const BUILT_IN_IMPORTS: Readonly<Record<string, () => Promise<unknown>>> = {
  docker: () => import('../drivers/docker/index.js'),
  native: () => import('../drivers/native/index.js'),
  k8s: () => import('../drivers/k8s/index.js'),
};

/**
 * The SDK each built-in driver imports: an optional peer dependency of the package, which
 * whoever uses that driver installs. When it is missing, the driver is refused with
 * {@link MissingDependencyError} naming it.
 */
const BUILT_IN_SDKS: Readonly<Record<string, string>> = {
  docker: 'dockerode',
  k8s: '@kubernetes/client-node',
};

const registered = new Map<string, DriverEntry<any>>();
const loaded = new Map<string, Promise<DriverEntry<any>>>();

/**
 * Registers a driver under `name`. Registering a name twice (a built-in one included)
 * throws {@link ConflictError}: two drivers must never answer to one name.
 */
export function registerDriver<O extends BaseDriverOptions>(name: string, factory: DriverFactory<O>): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new InvalidInputError('name', 'a driver name of lower-case letters, digits and "-"', name);
  }
  if (typeof factory !== 'function') throw new InvalidInputError('factory', 'a function returning a Driver', factory);
  if (registered.has(name) || name in BUILT_IN_ENTRY_POINTS) {
    throw new ConflictError(`a driver named "${name}" is already registered; choose another name`);
  }
  registered.set(name, { create: factory });
}

/** The names `createDriver` accepts, built-in ones first. */
export function listDrivers(): string[] {
  return [...Object.keys(BUILT_IN_ENTRY_POINTS), ...registered.keys()];
}

/** Options of {@link createDriver} for a name it has no options type for: `namespace`, and the driver's own. */
export type CreateDriverOptions = BaseDriverOptions & Record<string, unknown>;

/**
 * Creates a driver by name: `docker`, `native`, `k8s`, or one registered with
 * {@link registerDriver}. The options type follows the name (`DriverOptionsByName`, filled in
 * by each driver's entry point). An unknown name throws {@link InvalidInputError} listing the known ones.
 */
export function createDriver<N extends keyof DriverOptionsByName>(name: N, options?: DriverOptionsByName[N]): Promise<Driver>;
export function createDriver<N extends string>(name: N extends keyof DriverOptionsByName ? never : N, options?: CreateDriverOptions): Promise<Driver>;
export async function createDriver(name: string, options: CreateDriverOptions = {}): Promise<Driver> {
  const namespace = options.namespace ?? randomNamespace();
  validateNamespace(namespace);
  const entry = await driverEntry(name);
  return entry.create({ ...options, namespace });
}

/**
 * The driver's own checks of its environment (`drivetrain doctor`), or `undefined` when the
 * driver has none. Loads the driver's entry point, never an SDK of another driver.
 */
export async function doctorOf(name: string): Promise<((options?: DoctorOptions) => Promise<DoctorReport>) | undefined> {
  return (await driverEntry(name)).doctor;
}

/** Whether the driver's engine answers (quickly); a driver that says nothing of it is taken as available. */
export async function driverAvailable(name: string, options?: DoctorOptions): Promise<boolean> {
  const entry = await driverEntry(name);
  return entry.available === undefined ? true : entry.available(options);
}

/** The entry of a registered or built-in driver; a built-in one is imported once, on first use. */
async function driverEntry(name: string): Promise<DriverEntry<any>> {
  const own = registered.get(name);
  if (own !== undefined) return own;
  const load = typeof name === 'string' && Object.hasOwn(BUILT_IN_IMPORTS, name) ? BUILT_IN_IMPORTS[name] : undefined;
  if (load === undefined) {
    throw new InvalidInputError('name', `one of the registered drivers: ${listDrivers().join(', ')}`, name);
  }
  let entry = loaded.get(name);
  if (entry === undefined) {
    entry = importEntry(name, load);
    loaded.set(name, entry);
    // A failed import (a missing SDK) is tried again next time.
    entry.catch(() => loaded.delete(name));
  }
  return entry;
}

async function importEntry(name: string, load: () => Promise<unknown>): Promise<DriverEntry<any>> {
  const module = (await load().catch((error: unknown) => {
    const sdk = BUILT_IN_SDKS[name];
    if (sdk !== undefined && !resolvable(`${sdk}/package.json`)) throw new MissingDependencyError(`the ${name} driver`, sdk, { cause: error });
    throw error;
  })) as { driverEntry?: DriverEntry<any> };
  if (module.driverEntry === undefined) throw new TypeError(`${BUILT_IN_ENTRY_POINTS[name]} exports no driverEntry`);
  return module.driverEntry;
}

/** Whether `specifier` resolves from the package, as its drivers' imports of it would. */
function resolvable(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
