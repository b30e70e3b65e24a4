import { describe, expect, it } from 'vitest';
import { createNativeDriver } from '../../drivers/native/index.js';
import { InvalidInputError } from '../../src/errors.js';
import { createDriver } from '../../src/registry.js';

describe('native driver options', () => {
  for (const [field, options] of [
    ['options.namespace', { namespace: 'Bad_Namespace' }],
    ['options.root', { namespace: 'ok', root: '' }],
    ['options.stopGraceMs', { namespace: 'ok', stopGraceMs: -1 }],
    ['options.closeTimeoutMs', { namespace: 'ok', closeTimeoutMs: 1.5 }],
  ] as const) {
    it(`a bad ${field} is refused with InvalidInputError naming it`, () => {
      let error: unknown;
      try {
        createNativeDriver(options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe(field);
    });
  }

  it('is the registry\'s "native" driver and declares what it enforces', async () => {
    const driver = await createDriver('native');
    try {
      expect(driver.name).toBe('native');
      expect(driver.capabilities).toMatchObject({
        copyToVolume: true,
        copyFromVolume: true,
        readFilesFromVolume: true,
        startSandbox: true,
        enforces: { image: false, privileged: false, cpuShares: false, memoryBytes: false, user: process.getuid?.() === 0 },
      });
    } finally {
      await driver.close();
    }
  });
});
