import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ContainerStartError, DrivetrainError, ImagePullError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { readLogs } from '../../src/logs.js';
import type { ContainerStatus, Driver } from '../../src/types.js';
import { ALL_DRIVERS, openDriver, randomId, sh, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';
import { tarOf } from '../support/tar.js';

/** A stdin that delivers some bytes, then fails. */
function failingStdin(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent++ < 3) this.push(Buffer.from('partial line\n'));
      else this.destroy(new Error('stdin source broke'));
    },
  });
}

/** Bad or unusual input the engines see: each driver gives a defined, typed outcome and leaves nothing. */
describe.each(ALL_DRIVERS)('unusual input at run time on $name', (under: DriverUnderTest) => {
  const budget = (): AbortSignal => AbortSignal.timeout(under.budgetMs);

  it('a command that does not exist is never reported as 0 (127 or ContainerStartError)', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const outcome = await driver.runContainer({ id: randomId('nocmd'), image: 'busybox', command: ['/no/such/program'] }, { signal: budget() }).then(
      async (container) => container.wait({ signal: budget() }),
      (error: unknown) => error,
    );
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(ContainerStartError);
      expect(await under.countTasks(namespace)).toBe(0);
    } else {
      expect(outcome).toMatchObject({ done: true, exitCode: 127 });
    }
  });

  it('an image that does not exist gives ImagePullError and leaves nothing (native ignores images)', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const task = { id: randomId('noimg'), image: 'registry.invalid/drivetrain/none:1', command: ['true'] };
    if (!driver.capabilities.enforces.image) {
      const container = await driver.runContainer(task, { signal: budget() });
      expect(await container.wait({ signal: budget() })).toMatchObject({ done: true, exitCode: 0 });
      return;
    }
    await expect(driver.runContainer(task, { signal: budget() })).rejects.toBeInstanceOf(ImagePullError);
    expect(await under.countTasks(namespace)).toBe(0);
  });

  it('IDs of 300 characters, unicode, with "/" and differing only in case are distinct tasks', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const base = randomId('Id');
    const ids = [`${base}-${'x'.repeat(290)}`, `${base}-${'x'.repeat(289)}y`, `${base}-tâche-🚀`, `${base}/a/../b`, `${base}/b`, base.toUpperCase(), base.toLowerCase()];
    const containers = [];
    for (const [i, id] of ids.entries()) containers.push(await driver.runContainer({ id, image: 'busybox', command: ['echo', `task ${i}`] }, { signal: budget() }));
    for (const [i, container] of containers.entries()) {
      expect(await container.wait({ signal: budget() })).toMatchObject({ done: true, exitCode: 0 });
      expect((await readLogs(container, { signal: budget() })).stdout).toBe(`task ${i}\n`);
    }
    for (const [i, id] of ids.entries()) {
      const found = await driver.getContainer(id, { signal: budget() });
      expect(found.id).toBe(id);
      expect((await readLogs(found, { signal: budget() })).stdout).toBe(`task ${i}\n`);
    }
    expect(await under.countTasks(namespace)).toBe(ids.length);
  });

  it('env values with newlines, quotes and unicode are printed back intact', async () => {
    const driver = openDriver(under);
    const value = 'line one\nline "two"\n\tü ✓ 🚀 $HOME `x`';
    const container = await driver.runContainer({ id: randomId('env'), image: 'busybox', command: sh('printf "%s" "$V"'), env: { V: value } }, { signal: budget() });
    expect(await container.wait({ signal: budget() })).toMatchObject({ done: true, exitCode: 0 });
    expect((await readLogs(container, { signal: budget() })).stdout).toBe(value);
  });

  it('readFilesFromVolume of a missing path rejects with NotFoundError', async () => {
    const driver = openDriver(under);
    const volume = await driver.createVolume(randomId('rv'), { signal: budget() });
    await expect(driver.readFilesFromVolume!(volume, ['no/such/file'], { signal: budget() })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a corrupt tar stream is refused with a typed error (docker, native: InvalidInputError on field tar, parser error as cause)', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const volume = await driver.createVolume(randomId('rv'), { signal: budget() });
    const garbage = Readable.from([Buffer.alloc(1536, 0x41)]);
    const error = await driver.copyToVolume!(volume, garbage, { signal: budget() }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DrivetrainError);
    if (under.name !== 'k8s') {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ field: 'tar', expected: 'a valid tar stream' });
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(await under.countTasks(namespace)).toBe(0); // the copy helper is gone
    }
  });

  it('a tar stream escaping the volume with "../" is refused on every driver and writes nothing outside', async () => {
    const driver = openDriver(under);
    const volume = await driver.createVolume(randomId('rv'), { signal: budget() });
    const marker = `dt-escape-${randomId('m')}`;
    const entries = [
      { name: 'inside.txt', content: 'ok' },
      { name: `../../../../../../../../tmp/${marker}`, content: 'escaped' },
    ];
    await expect(driver.copyToVolume!(volume, tarOf(entries), { signal: budget() })).rejects.toBeInstanceOf(InvalidInputError);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    const probe = await driver.runContainer(
      { id: randomId('probe'), image: 'busybox', command: sh('find /w | sort'), workDir: '/w', mounts: [{ volume: volume.name, path: 'data' }] },
      { signal: budget() },
    );
    await probe.wait({ signal: budget() });
    const listing = (await readLogs(probe, { signal: budget() })).stdout.split('\n').filter((line) => line.includes(marker));
    // Whatever was written stays under the mount.
    for (const line of listing) expect(line.startsWith('/w/data/')).toBe(true);
    expect(listing).toEqual([]);
  });

  it('stdin that fails mid-stream is reported, nothing hangs, nothing is left', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const outcome = await driver.runContainer({ id: randomId('stdin'), image: 'busybox', command: ['cat'], stdin: failingStdin() }, { signal: budget() }).then(
      async (container) => container.wait({ signal: budget() }).catch((error: unknown) => error),
      (error: unknown) => error,
    );
    // Either an error, or a final status that does not pretend the task succeeded with all its input.
    if (!(outcome instanceof Error)) {
      const status = outcome as ContainerStatus;
      expect(status.done).toBe(true);
      expect(status.exitCode === 0 && status.reason === undefined).toBe(false);
    }
    await driver.close({ signal: budget() });
    expect(await under.countTasks(namespace)).toBe(0);
  });

  it('a process that ignores SIGTERM is still removed by cleanup within a bound', async () => {
    const namespace = testNamespace('rbr');
    const driver = openDriver(under, namespace);
    const container = await driver.runContainer({ id: randomId('stubborn'), image: 'busybox', command: sh("trap '' TERM; echo ready; sleep 300") }, { signal: budget() });
    const started = Date.now();
    await container.cleanup({ signal: budget() });
    expect(Date.now() - started).toBeLessThan(under.budgetMs / 2);
    expect(await under.countTasks(namespace)).toBe(0);
  });
});

/** copyToVolume on the drivers that read the tar themselves takes any byte stream, not only a Node Readable. */
describe.each(ALL_DRIVERS.filter((d) => d.name !== 'k8s'))('tar sources that are not Node streams on $name', (under: DriverUnderTest) => {
  const budget = (): AbortSignal => AbortSignal.timeout(under.budgetMs);

  async function readBack(driver: Driver, volume: string, path: string): Promise<string> {
    const probe = await driver.runContainer(
      { id: randomId('probe'), image: 'busybox', command: ['cat', `data/${path}`], workDir: '/w', mounts: [{ volume, path: 'data' }] },
      { signal: budget() },
    );
    expect(await probe.wait({ signal: budget() })).toMatchObject({ done: true, exitCode: 0 });
    return (await readLogs(probe, { signal: budget() })).stdout;
  }

  it('a tar-stream pack() given directly is extracted', async () => {
    const driver = openDriver(under);
    const volume = await driver.createVolume(randomId('rv'), { signal: budget() });
    const tar = pack();
    tar.entry({ name: 'packed.txt' }, 'from a pack');
    tar.finalize();
    await driver.copyToVolume!(volume, tar as unknown as Readable, { signal: budget() });
    expect(await readBack(driver, volume.name, 'packed.txt')).toBe('from a pack');
  });

  it('an async iterable of chunks is extracted; one that throws rejects instead of hanging', async () => {
    const driver = openDriver(under);
    const volume = await driver.createVolume(randomId('rv'), { signal: budget() });
    const tar = pack();
    tar.entry({ name: 'iterated.txt' }, 'from an iterable');
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
    async function* iterate(fail: boolean): AsyncGenerator<Buffer> {
      yield chunks[0] as Buffer;
      if (fail) throw new Error('source broke');
      for (const chunk of chunks.slice(1)) yield chunk;
    }
    await driver.copyToVolume!(volume, iterate(false) as unknown as Readable, { signal: budget() });
    expect(await readBack(driver, volume.name, 'iterated.txt')).toBe('from an iterable');
    await expect(driver.copyToVolume!(volume, iterate(true) as unknown as Readable, { signal: budget() })).rejects.toThrow('source broke');
  });
});
