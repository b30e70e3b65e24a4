import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import type { Driver } from '../../src/types.js';
import { nativeFixture } from './helpers.js';
import { tarOf, type TarInput } from '../support/tar.js';

const fx = nativeFixture();

async function setup(): Promise<{ driver: Driver; volumeDir: string; outside: string }> {
  const driver = await fx.driver();
  await driver.createVolume('v');
  const volumeDir = join(fx.root, driver.namespace, 'volumes', 'v');
  const outside = join(fx.root, driver.namespace, 'outside');
  mkdirSync(outside, { recursive: true });
  return { driver, volumeDir, outside };
}

describe('native volume copies', () => {
  for (const [title, entries] of [
    ['a ../ entry', [{ name: '../outside/escaped', content: 'x' }]],
    ['an absolute entry', [{ name: '/tmp/drivetrain-native-escaped', content: 'x' }]],
    ['a symlink pointing out', [{ name: 'link', type: 'symlink', linkname: '../outside' }]],
    ['an absolute symlink', [{ name: 'link', type: 'symlink', linkname: '/etc' }]],
  ] as Array<[string, TarInput[]]>) {
    it(`copyToVolume refuses ${title} with InvalidInputError and writes nothing outside`, async () => {
      const { driver, outside } = await setup();
      await expect(driver.copyToVolume!('v', tarOf(entries))).rejects.toBeInstanceOf(InvalidInputError);
      expect(existsSync(join(outside, 'escaped'))).toBe(false);
      expect(existsSync('/tmp/drivetrain-native-escaped')).toBe(false);
    });
  }

  it('copyToVolume refuses to write through an existing symlink that leads out', async () => {
    const { driver, volumeDir, outside } = await setup();
    symlinkSync(outside, join(volumeDir, 'door'));
    await expect(driver.copyToVolume!('v', tarOf([{ name: 'door/escaped', content: 'x' }]))).rejects.toBeInstanceOf(InvalidInputError);
    expect(existsSync(join(outside, 'escaped'))).toBe(false);
  });

  it('copyToVolume accepts links that stay inside', async () => {
    const { driver, volumeDir } = await setup();
    await driver.copyToVolume!('v', tarOf([{ name: 'd/', type: 'directory' }, { name: 'd/f', content: 'in' }, { name: 'l', type: 'symlink', linkname: 'd/f' }]));
    expect(readFileSync(join(volumeDir, 'l'), 'utf8')).toBe('in');
  });

  it('readFilesFromVolume refuses escaping paths and reports missing ones', async () => {
    const { driver, volumeDir, outside } = await setup();
    symlinkSync(outside, join(volumeDir, 'door'));
    await expect(driver.readFilesFromVolume!('v', ['../outside'])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(driver.readFilesFromVolume!('v', ['/etc/passwd'])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(driver.readFilesFromVolume!('v', ['door'])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(driver.readFilesFromVolume!('v', ['nothing'])).rejects.toBeInstanceOf(NotFoundError);
    await expect(driver.copyFromVolume!('no-such-volume')).rejects.toBeInstanceOf(NotFoundError);
  });
});
