import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../src/errors.js';
import { BUILT_IN_ENTRY_POINTS, createDriver, listDrivers, randomNamespace, registerDriver } from '../../src/registry.js';
import type { Driver } from '../../src/types.js';

function fakeDriver(name: string, namespace: string): Driver {
  const unsupported = async (): Promise<never> => {
    throw new Error('not part of this test');
  };
  return {
    name,
    namespace,
    capabilities: { copyToVolume: false, copyFromVolume: false, readFilesFromVolume: false, startSandbox: false, tty: false, services: false, enforces: { user: false, privileged: false, cpuShares: false, memoryBytes: false, image: false } },
    runContainer: unsupported,
    getContainer: unsupported,
    createVolume: unsupported,
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}

describe('driver registry', () => {
  it('lists the built-in drivers', () => {
    expect(listDrivers()).toEqual(expect.arrayContaining(['docker', 'native', 'k8s']));
  });

  it('creates a registered driver with the given namespace, or a random one', async () => {
    const name = `fake-${randomNamespace()}`;
    registerDriver(name, ({ namespace }) => fakeDriver(name, namespace));
    expect((await createDriver(name, { namespace: 'ci-1' })).namespace).toBe('ci-1');
    expect((await createDriver(name)).namespace).toMatch(/^dt-[0-9a-f]{8}$/);
  });

  it('rejects a duplicate name, built-in ones included', () => {
    const name = `dup-${randomNamespace()}`;
    registerDriver(name, ({ namespace }) => fakeDriver(name, namespace));
    expect(() => registerDriver(name, ({ namespace }) => fakeDriver(name, namespace))).toThrow(ConflictError);
    expect(() => registerDriver('docker', ({ namespace }) => fakeDriver('docker', namespace))).toThrow(ConflictError);
  });

  it('names the known drivers when asked for an unknown one', async () => {
    const error = await createDriver('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/docker, native, k8s/);
  });

  it('rejects an invalid namespace before creating anything', async () => {
    await expect(createDriver('native', { namespace: 'Bad_NS' })).rejects.toMatchObject({ name: 'InvalidInputError', field: 'options.namespace' });
  });

  it("loads each built-in driver from the entry point the package exports under its name", () => {
    const exports = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { default: string }> }).exports;
    for (const [name, specifier] of Object.entries(BUILT_IN_ENTRY_POINTS)) {
      // The registry is dist/src/registry.js in the package: its specifier, resolved from there, is the subpath's file.
      expect(new URL(specifier, 'file:///pkg/dist/src/registry.js').pathname, name).toBe(new URL(exports[`./${name}`]!.default, 'file:///pkg/').pathname);
    }
    // The import each name makes is spelled out beside (for the CLI's bundler): the same specifiers.
    const source = readFileSync(new URL('../../src/registry.ts', import.meta.url), 'utf8');
    const imported = Object.fromEntries([...source.matchAll(/^\s+([a-z0-9-]+): \(\) => import\('([^']+)'\),$/gm)].map((match) => [match[1], match[2]]));
    expect(imported).toEqual(BUILT_IN_ENTRY_POINTS);
  });

  it('creates a built-in driver by name, its options typed by the name', async () => {
    const driver = await createDriver('native', { stopGraceMs: 500 });
    expect(driver.name).toBe('native');
    await driver.close();
    // Checked by the type checker: each name takes its own driver's options only.
    const typed = (): void => {
      // @ts-expect-error pullPolicy is not one of Docker's
      void createDriver('docker', { pullPolicy: 'Sometimes' });
      // @ts-expect-error stopGraceMs is an option of the native driver, not of k8s
      void createDriver('k8s', { stopGraceMs: 5 });
      void createDriver('docker', { pullPolicy: 'Never' });
      void createDriver('k8s', { mode: 'job' });
    };
    expect(typeof typed).toBe('function');
  });
});
