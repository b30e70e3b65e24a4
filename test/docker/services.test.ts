import { describe, expect, it } from 'vitest';
import { ServiceNotReadyError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { eventually } from '../support/poll.js';
import { containersOf, docker, finish, openDriver } from './helpers.js';

/** What the driver makes for a task with services, and that nothing of it outlives a failure, an abort, a cleanup or a close. */
describe('docker driver: services', () => {
  const listener = (port: number) => ({ name: 'db', image: 'busybox', command: ['busybox', 'nc', '-ll', '-p', String(port), '-e', 'echo', 'ok'], ready: { tcpPort: port } });

  it('the services and the task share the namespace of one holder container, labelled and removed with the task', async () => {
    const driver = openDriver({ networkMode: 'none' });
    const container = await driver.runContainer({ id: 'shared', image: 'busybox', command: ['sh', '-c', 'busybox nc 127.0.0.1 7000 </dev/null'], services: [listener(7000)] });
    const ns = driver.namespace;
    expect(await containersOf(ns)).toEqual([`dt-${ns}--shared`, `dt-${ns}_task-net-shared`, `dt-${ns}_task-svc-shared_db`]);
    const holder = await docker.getContainer(`dt-${ns}_task-net-shared`).inspect();
    expect(holder.HostConfig.NetworkMode).toBe('none');
    const task = await docker.getContainer(`dt-${ns}--shared`).inspect();
    const service = await docker.getContainer(`dt-${ns}_task-svc-shared_db`).inspect();
    expect(task.HostConfig.NetworkMode).toBe(`container:dt-${ns}_task-net-shared`);
    expect(service.HostConfig.NetworkMode).toBe(`container:${holder.Id}`);
    expect(service.Config.Labels).toMatchObject({ 'drivetrain.dev/role': 'service', 'drivetrain.dev/service': 'db', 'drivetrain.dev/task-id': 'shared' });
    expect(await finish(container)).toMatchObject({ status: { exitCode: 0 }, stdout: 'ok\n' });
    // wait() saw the end: the service was stopped with the task, and is kept (its logs readable) until cleanup.
    expect((await docker.getContainer(service.Id).inspect()).State.Running).toBe(false);
    // Another instance finds the task by ID and, from its network mode, that it has services to remove with it.
    const other = openDriver({ namespace: ns });
    await (await other.getContainer('shared')).cleanup();
    expect(await containersOf(ns)).toEqual([]);
  });

  it('a readiness timeout and an abort during the start leave no container behind', async () => {
    const driver = openDriver();
    const unready = { name: 'never', image: 'busybox', command: ['sleep', '60'], ready: { tcpPort: 7001, timeoutMs: 500 } };
    await expect(driver.runContainer({ id: 'unready', image: 'busybox', command: ['true'], services: [listener(7002), unready] })).rejects.toBeInstanceOf(ServiceNotReadyError);
    expect(await containersOf(driver.namespace)).toEqual([]);
    const abort = new AbortController();
    const starting = driver.runContainer({ id: 'aborted', image: 'busybox', command: ['true'], services: [{ ...unready, ready: { tcpPort: 7001, timeoutMs: 30_000 } }] }, { signal: abort.signal });
    // Aborted once the service runs and its readiness is being checked.
    await eventually(async () => (await containersOf(driver.namespace)).some((name) => name.endsWith('_never')), 30_000, 'the service container');
    abort.abort();
    await expect(starting).rejects.toThrow();
    // The caller is answered at once; the start then undoes what it made.
    await eventually(async () => (await containersOf(driver.namespace)).length === 0, 30_000, 'no container of the aborted start');
  });

  it("two instances starting one sandbox with services: the second waits for the first's services, and both reach them", async () => {
    const driver = openDriver();
    const twin = openDriver({ namespace: driver.namespace });
    const box = { id: 'shared-box', image: 'busybox', services: [listener(7004)] };
    const sandboxes = await Promise.all([driver.startSandbox(box), twin.startSandbox(box)]);
    for (const sandbox of sandboxes) {
      const stdout = new CollectingWritable();
      expect(await sandbox.exec(['sh', '-c', 'busybox nc 127.0.0.1 7004 </dev/null'], { stdout })).toMatchObject({ exitCode: 0 });
      expect(stdout.text()).toBe('ok\n');
    }
    expect(await containersOf(driver.namespace)).toHaveLength(3);
  });

  it('close removes the services and holders of running tasks and sandboxes', async () => {
    const driver = openDriver();
    await driver.runContainer({ id: 'running', image: 'busybox', command: ['sleep', '60'], services: [listener(7003)] });
    await driver.startSandbox({ id: 'box', image: 'busybox', services: [listener(7003)] });
    expect(await containersOf(driver.namespace)).toHaveLength(6);
    await driver.close();
    expect(await containersOf(driver.namespace)).toEqual([]);
  });
});
