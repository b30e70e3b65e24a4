import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidInputError } from './errors.js';
import type { BaseDriverOptions, Driver } from './types.js';
import { validateNamespace } from './validate.js';

/** Makes a driver from its options; `namespace` is always set (a random one when the caller gave none). */
export type DriverFactory<O extends BaseDriverOptions = BaseDriverOptions> = (options: O & { namespace: string }) => Driver | Promise<Driver>;

const factories = new Map<string, DriverFactory<any>>();

// Built-in drivers are imported on first use, so `import 'drivetrain'` loads no SDK.
const builtIns: Record<string, () => Promise<DriverFactory<any>>> = {
  docker: async () => (await import('../drivers/docker/index.js')).createDockerDriver,
  native: async () => (await import('../drivers/native/index.js')).createNativeDriver,
  k8s: async () => (await import('../drivers/k8s/index.js')).createK8sDriver,
};

/**
 * Registers a driver under `name`. Registering a name twice (a built-in one included)
 * throws {@link ConflictError}: two drivers must never answer to one name.
 */
export function registerDriver<O extends BaseDriverOptions>(name: string, factory: DriverFactory<O>): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new InvalidInputError('name', 'a driver name of lower-case letters, digits and "-"', name);
  }
  if (typeof factory !== 'function') throw new InvalidInputError('factory', 'a function returning a Driver', factory);
  if (factories.has(name) || name in builtIns) {
    throw new ConflictError(`a driver named "${name}" is already registered; choose another name`);
  }
  factories.set(name, factory);
}

/** The names `createDriver` accepts, built-in ones first. */
export function listDrivers(): string[] {
  return [...Object.keys(builtIns), ...factories.keys()];
}

/** A random drivetrain namespace: `dt-` and 8 hex characters. */
export function randomNamespace(): string {
  return `dt-${randomBytes(4).toString('hex')}`;
}

/** Options of {@link createDriver}: the chosen driver's options, `namespace` included. */
export type CreateDriverOptions = BaseDriverOptions & Record<string, unknown>;

/**
 * Creates a driver by name: `docker`, `native`, `k8s`, or one registered with
 * {@link registerDriver}. An unknown name throws {@link InvalidInputError} listing the known ones.
 */
export async function createDriver(name: string, options: CreateDriverOptions = {}): Promise<Driver> {
  const namespace = options.namespace ?? randomNamespace();
  validateNamespace(namespace);
  const factory = factories.get(name) ?? (await builtIns[name]?.());
  if (factory === undefined) {
    throw new InvalidInputError('name', `one of the registered drivers: ${listDrivers().join(', ')}`, name);
  }
  return factory({ ...options, namespace });
}
