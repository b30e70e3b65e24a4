/**
 * The conformance suite against one built-in driver as the package ships it, run by
 * `drivetrain conformance --driver NAME` with this folder's vitest config. The driver comes
 * from `DRIVETRAIN_CONFORMANCE_DRIVER`; it reads its environment as the library does
 * (`DOCKER_HOST`; `KUBECONFIG`, else `~/.kube/config`). Namespaces start with
 * `DRIVETRAIN_NAMESPACE_PREFIX` when it is set, as the CLI's own runs do.
 */
import { randomBytes } from 'node:crypto';
import { createDriver } from '../../../src/registry.js';
import { testDriver } from '../index.js';
import { DRIVER_SETTINGS, type BuiltInDriverName } from './settings.js';

const name = process.env.DRIVETRAIN_CONFORMANCE_DRIVER as BuiltInDriverName;
const settings = Object.hasOwn(DRIVER_SETTINGS, name) ? DRIVER_SETTINGS[name] : undefined;
if (settings === undefined) throw new Error(`DRIVETRAIN_CONFORMANCE_DRIVER=${JSON.stringify(name)}: expected one of ${Object.keys(DRIVER_SETTINGS).join(', ')}`);
const prefix = process.env.DRIVETRAIN_NAMESPACE_PREFIX;

testDriver({
  name,
  ...settings.suite,
  ...(prefix === undefined || prefix === '' ? {} : { namespace: () => `${prefix}-${randomBytes(4).toString('hex')}` }),
  create: (namespace) => createDriver(name, { ...settings.options, namespace }),
});
