import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { readLogs } from '../../src/logs.js';
import { K8S, openDriver, randomId, sh } from './drivers.js';
import { tarOf, type TarInput } from '../support/tar.js';

const budget = (): AbortSignal => AbortSignal.timeout(K8S.budgetMs);

/** The volume's listing (relative paths with symlink targets), read by a task that mounts it. */
async function listing(driver: ReturnType<typeof openDriver>, volume: string): Promise<string> {
  const probe = await driver.runContainer({ id: randomId('probe'), image: 'busybox', command: sh('cd /w/data && find . | sort && ls -l link 2>/dev/null | sed "s/.* -> /link -> /"'), workDir: '/w', mounts: [{ volume, path: 'data' }] }, { signal: budget() });
  await probe.wait({ signal: budget() });
  return (await readLogs(probe, { signal: budget() })).stdout;
}

describe('k8s copyToVolume refuses entries escaping the volume, before anything is written', () => {
  it.each([
    ['an absolute path', [{ name: '/etc/escaped', content: 'x' }]],
    ['a ".." path', [{ name: 'sub/../../escaped', content: 'x' }]],
    ['a symlink leading out', [{ name: 'link', type: 'symlink', linkname: '../../etc' }]],
    ['an absolute symlink', [{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }]],
    ['a hard link to a file outside', [{ name: 'hard', type: 'link', linkname: '../outside' }]],
  ] as Array<[string, TarInput[]]>)('%s', async (_title, bad) => {
    const driver = openDriver(K8S);
    const volume = await driver.createVolume(randomId('tc'), { signal: budget() });
    const error = await driver.copyToVolume!(volume, tarOf([{ name: 'inside.txt', content: 'ok' }, ...bad]), { signal: budget() }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toMatch(/^tar entry "/);
    // The entry before the refused one was not written either, nor any staging directory.
    expect(await listing(driver, volume.name)).toBe('.\n');
  });

  it('an archive with a symlink that stays inside is extracted whole', async () => {
    const driver = openDriver(K8S);
    const volume = await driver.createVolume(randomId('tc'), { signal: budget() });
    await driver.copyToVolume!(volume, tarOf([{ name: 'dir/file.txt', content: 'ok' }, { name: 'link', type: 'symlink', linkname: 'dir/../dir/file.txt' }]), { signal: budget() });
    expect(await listing(driver, volume.name)).toBe('.\n./dir\n./dir/file.txt\n./link\nlink -> dir/../dir/file.txt\n');
  });
});
