/**
 * A process that owns a namespace and is then killed: `node --import tsx orphan-owner.ts
 * <driver> <namespace> <options as JSON>` opens the driver, starts a long task `orphan`, prints
 * `running` and waits to be killed (the tests send SIGKILL, so nothing of drivetrain's runs after).
 */
import { createDriver } from '../../src/index.js';

const [name, namespace, optionsJson] = process.argv.slice(2);
if (name === undefined || namespace === undefined) throw new Error('usage: orphan-owner.ts <driver> <namespace> [options JSON]');
const driver = await createDriver(name, { ...(JSON.parse(optionsJson ?? '{}') as Record<string, unknown>), namespace });
await driver.runContainer({ id: 'orphan', image: 'busybox', command: ['sleep', '300'] }, { signal: AbortSignal.timeout(120_000) });
process.stdout.write('running\n');
setInterval(() => {}, 60_000);
