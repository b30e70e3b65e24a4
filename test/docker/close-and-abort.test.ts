import { describe, expect, it } from 'vitest';
import { DriverClosedError, ConflictError } from '../../src/errors.js';
import { containersOf, finish, openDriver, volumesOf } from './helpers.js';

describe('docker driver: close and abort', () => {
  it('close of one namespace removes its containers, sandboxes and volumes and leaves another namespace intact', async () => {
    const closing = openDriver();
    const other = openDriver();
    for (const driver of [closing, other]) {
      await driver.runContainer({ id: 'running', image: 'busybox', command: ['sleep', '30'], mounts: [{ volume: 'data', path: 'data' }] });
      await finish(await driver.runContainer({ id: 'finished', image: 'busybox', command: ['true'] }));
      await driver.startSandbox({ id: 'box', image: 'busybox' });
      await driver.createVolume('spare');
    }
    const started = Date.now();
    await closing.close();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await containersOf(closing.namespace)).toEqual([]);
    expect(await volumesOf(closing.namespace, true)).toEqual([]);
    expect(await containersOf(other.namespace)).toHaveLength(3);
    expect(await volumesOf(other.namespace, true)).toContainEqual(expect.stringMatching(new RegExp(`^dt-${other.namespace}_owner-`)));
    expect(await volumesOf(other.namespace)).toEqual([`dt-${other.namespace}--data`, `dt-${other.namespace}--spare`]);
    // Safe to call twice; afterwards the driver refuses work.
    await closing.close();
    await expect(closing.runContainer({ id: 'late', image: 'busybox', command: ['true'] })).rejects.toBeInstanceOf(DriverClosedError);
    await expect(closing.getContainer('running')).rejects.toBeInstanceOf(DriverClosedError);
  });

  it('after close, containers and sandboxes refuse work with DriverClosedError; their cleanup stays a no-op', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'held', image: 'busybox', command: ['sleep', '30'] });
    const sandbox = await driver.startSandbox({ id: 'held-box', image: 'busybox' });
    await driver.close();
    await expect(container.status()).rejects.toBeInstanceOf(DriverClosedError);
    await expect(container.wait()).rejects.toBeInstanceOf(DriverClosedError);
    await expect(container.logs()).rejects.toBeInstanceOf(DriverClosedError);
    await expect(sandbox.exec(['true'])).rejects.toBeInstanceOf(DriverClosedError);
    await container.cleanup();
    await sandbox.cleanup();
  });

  it('aborting a sandbox exec ends it promptly', async () => {
    const driver = openDriver();
    const sandbox = await driver.startSandbox({ id: 'box', image: 'busybox' });
    const controller = new AbortController();
    const running = sandbox.exec(['sleep', '30'], { signal: controller.signal });
    const aborted = Date.now();
    setImmediate(() => controller.abort(new Error('stop')));
    await expect(running).rejects.toThrow();
    expect(Date.now() - aborted).toBeLessThan(5_000);
  });

  it('close also reaps what another instance of the namespace made', async () => {
    const maker = openDriver();
    await maker.runContainer({ id: 'orphan', image: 'busybox', command: ['sleep', '30'] });
    const reaper = openDriver({ namespace: maker.namespace });
    await reaper.close();
    expect(await containersOf(maker.namespace)).toEqual([]);
  });

  it('aborting runContainer mid-way removes what it created', async () => {
    const driver = openDriver();
    const controller = new AbortController();
    // Aborted as soon as the engine has been asked to create the container.
    const run = driver.runContainer({ id: 'aborted', image: 'busybox', command: ['sleep', '30'], stdin: 'x' }, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(run).rejects.toThrow();
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('removing a volume still mounted by a container is a ConflictError', async () => {
    const driver = openDriver();
    const volume = await driver.createVolume('busy', { sizeBytes: 1024 });
    expect(volume.sizeBytes).toBe(1024);
    const container = await driver.runContainer({ id: 'user', image: 'busybox', command: ['sleep', '30'], mounts: [{ volume: 'busy', path: '/busy' }] });
    await expect(volume.cleanup()).rejects.toBeInstanceOf(ConflictError);
    await container.cleanup();
    await container.cleanup();
    await volume.cleanup();
    await volume.cleanup();
    expect(await volumesOf(driver.namespace)).toEqual([]);
  });
});
