import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import type { Driver } from '../../src/types.js';
import type { Harness } from './harness.js';
import { tarOf } from '../support/tar.js';
import { describeTar, readTar, runToEnd, sh } from './helpers.js';

/** Files come out of (and go into) volumes as tar streams relative to the volume root. */
export function readFileCases(h: Harness): void {
  const caps = h.capabilities;
  describe('read files', () => {
    // Seeds a volume through a task, so these cases do not depend on copyToVolume.
    const seed = async (driver: Driver, volume: string): Promise<void> => {
      const script = 'mkdir -p v/dir/sub && printf one > v/top.txt && printf two > v/dir/a.txt && printf three > v/dir/sub/b.txt';
      const result = await runToEnd(driver, h.task(h.taskId('seed'), sh(script), { mounts: [{ volume, path: 'v' }] }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
    };

    it.skipIf(!caps.readFilesFromVolume)(
      `readFilesFromVolume of a file and of a directory gives entries relative to the volume root${caps.readFilesFromVolume ? '' : ' (not run: capabilities.readFilesFromVolume is false)'}`,
      async () => {
        const driver = h.driver();
        const volume = h.volumeName('files');
        await seed(driver, volume);
        const single = describeTar(await readTar(await driver.readFilesFromVolume!(volume, ['top.txt'], { signal: h.signal() })));
        expect(single).toEqual({ 'top.txt': 'one' });
        const files = describeTar(await readTar(await driver.readFilesFromVolume!(volume, ['dir/sub'], { signal: h.signal() })));
        expect(Object.keys(files).filter((name) => files[name] !== '<dir>')).toEqual(['dir/sub/b.txt']);
        expect(files['dir/sub/b.txt']).toBe('three');
        // Whatever directories are listed lie on the way to, or inside, the asked-for one.
        for (const name of Object.keys(files)) expect(['dir', 'dir/sub', 'dir/sub/b.txt']).toContain(name);
        const both = describeTar(await readTar(await driver.readFilesFromVolume!(volume, ['top.txt', 'dir/a.txt'], { signal: h.signal() })));
        expect(both).toMatchObject({ 'top.txt': 'one', 'dir/a.txt': 'two' });
        expect(both['dir/sub/b.txt']).toBeUndefined();
      },
      h.caseTimeoutMs,
    );

    it.skipIf(!caps.readFilesFromVolume)(
      `readFilesFromVolume of a missing path rejects with NotFoundError${caps.readFilesFromVolume ? '' : ' (not run: capabilities.readFilesFromVolume is false)'}`,
      async () => {
        const driver = h.driver();
        const volume = h.volumeName('missing');
        await seed(driver, volume);
        // The call itself rejects: a stream that fails later would reach the caller too late.
        await expect(driver.readFilesFromVolume!(volume, ['no/such/file'], { signal: h.signal() })).rejects.toBeInstanceOf(NotFoundError);
        await expect(driver.readFilesFromVolume!(volume, ['top.txt', 'no/such/file'], { signal: h.signal() })).rejects.toBeInstanceOf(NotFoundError);
      },
      h.caseTimeoutMs,
    );

    const roundTrip = caps.copyToVolume && caps.copyFromVolume;
    it.skipIf(!roundTrip)(
      `copyToVolume then copyFromVolume round-trips binary files, nested and empty directories${roundTrip ? '' : ' (not run: capabilities.copyToVolume or copyFromVolume is false)'}`,
      async () => {
        const driver = h.driver();
        const volume = await driver.createVolume(h.volumeName('copy'), { signal: h.signal() });
        const binary = randomBytes(200_000);
        const small = Buffer.from([0, 255, 10, 13, 0]);
        await driver.copyToVolume!(
          volume,
          tarOf([{ name: 'bin.dat', content: binary }, { name: 'a/' }, { name: 'a/b/' }, { name: 'a/b/c/' }, { name: 'a/b/c/deep.bin', content: small }, { name: 'empty/' }, { name: 'zero.txt', content: Buffer.alloc(0) }]),
          { signal: h.signal() },
        );
        const entries = await readTar(await driver.copyFromVolume!(volume, { signal: h.signal() }));
        expect(entries.get('bin.dat')?.content.equals(binary)).toBe(true);
        expect(entries.get('a/b/c/deep.bin')?.content.equals(small)).toBe(true);
        expect(entries.get('zero.txt')).toMatchObject({ type: 'file' });
        expect(entries.get('zero.txt')?.content.length).toBe(0);
        expect(entries.get('empty')).toMatchObject({ type: 'directory' });
        expect(entries.get('a/b')).toMatchObject({ type: 'directory' });
        for (const name of entries.keys()) expect(name.startsWith('/') || name.split('/').includes('..')).toBe(false);

        // A task mounting the volume sees the same bytes.
        const check = await runToEnd(driver, h.task(h.taskId('copied'), sh('wc -c < v/bin.dat; ls -d v/empty'), { mounts: [{ volume: volume.name, path: 'v' }] }), h.signal());
        expect(check.stdout.split('\n')[0]?.trim()).toBe(String(binary.length));
        expect(check.status).toMatchObject({ done: true, exitCode: 0 });
      },
      h.caseTimeoutMs,
    );

    it.skipIf(!caps.copyFromVolume)(
      `copyFromVolume of a volume written by a task gives entries relative to the volume root${caps.copyFromVolume ? '' : ' (not run: capabilities.copyFromVolume is false)'}`,
      async () => {
        const driver = h.driver();
        const volume = h.volumeName('whole');
        await seed(driver, volume);
        const files = describeTar(await readTar(await driver.copyFromVolume!(volume, { signal: h.signal() })));
        expect(files).toMatchObject({ 'top.txt': 'one', 'dir/a.txt': 'two', 'dir/sub/b.txt': 'three', dir: '<dir>', 'dir/sub': '<dir>' });
      },
      h.caseTimeoutMs,
    );
  });
}
