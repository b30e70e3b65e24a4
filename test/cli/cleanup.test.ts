import { afterEach, describe, expect, it } from 'vitest';
import { ContainerNotFoundError, createDriver, type Driver } from '../../src/index.js';
import { runCli } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain cleanup', { timeout: 150_000 }, () => {
  const drivers: Driver[] = [];
  afterEach(async () => {
    for (const driver of drivers.splice(0)) await driver.close();
  });

  it.each(['docker', 'native'])('removes a running leftover of the namespace (%s)', async (name) => {
    const namespace = testNamespace('cli');
    const crashed = await createDriver(name, { namespace });
    drivers.push(crashed);
    const container = await crashed.runContainer({ id: 'leftover', image: 'busybox', command: ['sleep', '30'] });
    expect((await container.status()).done).toBe(false);
    const other = await createDriver(name, { namespace: testNamespace('cli') });
    drivers.push(other);
    const bystander = await other.runContainer({ id: 'bystander', image: 'busybox', command: ['sleep', '30'] });

    const result = await runCli(['cleanup', '--driver', name, '--namespace', namespace]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`cleaned up namespace "${namespace}"`);

    const fresh = await createDriver(name, { namespace });
    drivers.push(fresh);
    await expect(fresh.getContainer('leftover')).rejects.toBeInstanceOf(ContainerNotFoundError);
    // Another namespace is never touched.
    expect((await bystander.status()).done).toBe(false);
  });

  it('succeeds on a namespace with nothing in it, twice', async () => {
    const namespace = testNamespace('cli');
    for (let i = 0; i < 2; i += 1) {
      const result = await runCli(['cleanup', '--driver', 'docker', '--namespace', namespace]);
      expect(result.code).toBe(0);
    }
  });
});
