import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError } from '../../src/errors.js';
import { containersOf, docker, finish, openDriver } from './helpers.js';

describe('docker driver: names, labels and idempotency', () => {
  it('looks containers up by exact name: an ID that is a prefix of another is not confused with it', async () => {
    const driver = openDriver();
    await finish(await driver.runContainer({ id: 'build-1', image: 'busybox', command: ['echo', 'long'] }));
    // Docker's name filter would match "build" inside "build-1".
    await expect(driver.getContainer('build')).rejects.toBeInstanceOf(ContainerNotFoundError);
    const short = await driver.runContainer({ id: 'build', image: 'busybox', command: ['echo', 'short'] });
    expect((await finish(short)).stdout).toBe('short\n');
    expect((await finish(await driver.getContainer('build-1'))).stdout).toBe('long\n');
    expect(await containersOf(driver.namespace)).toEqual([`dt-${driver.namespace}--build`, `dt-${driver.namespace}--build-1`]);
  });

  it('IDs that differ only in case get separate containers, each labelled with its raw ID', async () => {
    const driver = openDriver();
    await finish(await driver.runContainer({ id: 'Job', image: 'busybox', command: ['echo', 'upper'] }));
    await finish(await driver.runContainer({ id: 'job', image: 'busybox', command: ['echo', 'lower'] }));
    expect((await finish(await driver.getContainer('Job'))).stdout).toBe('upper\n');
    expect((await finish(await driver.getContainer('job'))).stdout).toBe('lower\n');
    const list = await docker.listContainers({ all: true, filters: { label: [`drivetrain.dev/namespace=${driver.namespace}`] } });
    expect(list.map((c) => c.Labels['drivetrain.dev/task-id']).sort()).toEqual(['Job', 'job']);
  });

  it('labels the container with managed, namespace, task ID, role and the task\'s own labels', async () => {
    const driver = openDriver();
    await finish(await driver.runContainer({ id: 'a task/with odd:chars', image: 'busybox', command: ['true'], labels: { team: 'infra' } }));
    const [info] = await docker.listContainers({ all: true, filters: { label: [`drivetrain.dev/namespace=${driver.namespace}`] } });
    expect(info?.Labels).toMatchObject({
      'drivetrain.dev/managed': 'true',
      'drivetrain.dev/namespace': driver.namespace,
      'drivetrain.dev/task-id': 'a task/with odd:chars',
      'drivetrain.dev/role': 'task',
      team: 'infra',
    });
  });

  it('20 racing runs of one ID across two driver instances make exactly one container', async () => {
    const first = openDriver();
    const second = openDriver({ namespace: first.namespace });
    const task = { id: 'raced', image: 'busybox', command: ['sh', '-c', 'echo once'] } as const;
    const containers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second).runContainer(task)));
    expect(containers).toHaveLength(20);
    expect(await containersOf(first.namespace)).toEqual([`dt-${first.namespace}--raced`]);
    expect((await finish(containers[19]!)).stdout).toBe('once\n');
  });

  it('a container of the same name in another namespace is never returned', async () => {
    const mine = openDriver();
    const theirs = openDriver();
    await finish(await theirs.runContainer({ id: 'shared-id', image: 'busybox', command: ['echo', 'theirs'] }));
    await expect(mine.getContainer('shared-id')).rejects.toBeInstanceOf(ContainerNotFoundError);
    expect((await finish(await mine.runContainer({ id: 'shared-id', image: 'busybox', command: ['echo', 'mine'] }))).stdout).toBe('mine\n');
  });
});
