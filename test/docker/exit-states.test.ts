import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../drivers/docker/index.js';
import { ContainerNotFoundError, ContainerStartError } from '../../src/errors.js';
import { containersOf, docker, finish, openDriver } from './helpers.js';

describe('docker driver: how containers end', () => {
  it('16 MiB limit and a 64 MiB allocation: exit 137, reason OOMKilled', async () => {
    const driver = openDriver();
    // The task allocates only once released through the engine after its start: an OOM kill in
    // the very first moments (before containerd watches the new cgroup, likely on a loaded
    // machine) is never reported by the engine at all (docs/drivers/docker.md).
    const command = ['sh', '-c', 'until [ -e /tmp/go ]; do sleep 0.05; done; head -c 67108864 /dev/zero | tail'];
    const container = await driver.runContainer({ id: 'oom', image: 'busybox', command, limits: { memoryBytes: 16 * 2 ** 20 } });
    const exec = await docker.getContainer((container as DockerContainer).engineId).exec({ Cmd: ['touch', '/tmp/go'] });
    await exec.start({ Detach: true });
    const { status } = await finish(container);
    expect(status, JSON.stringify(status)).toMatchObject({ done: true, exitCode: 137, reason: 'OOMKilled' });
  });

  it('a container removed behind the driver\'s back reports reason Deleted, from wait and from status', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'victim', image: 'busybox', command: ['sleep', '30'] });
    const waiting = container.wait({ signal: AbortSignal.timeout(20_000) });
    const [info] = await docker.listContainers({ filters: { label: [`drivetrain.dev/namespace=${driver.namespace}`] } });
    await docker.getContainer(info!.Id).remove({ force: true });
    expect(await waiting).toEqual(expect.objectContaining({ done: true, exitCode: null, reason: 'Deleted' }));
    expect(await container.status()).toMatchObject({ done: true, exitCode: null, reason: 'Deleted' });
    await expect(driver.getContainer('victim')).rejects.toBeInstanceOf(ContainerNotFoundError);
  });

  it('a command missing from the image rejects with ContainerStartError and leaves nothing behind', async () => {
    const driver = openDriver();
    const error = await driver.runContainer({ id: 'nocmd', image: 'busybox', command: ['no-such-command'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerStartError);
    expect((error as ContainerStartError).reason).toBe('StartError');
    expect((error as Error).message).toMatch(/no-such-command/);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('a container stuck in created is reported as Created, and wait does not hang on it', async () => {
    const driver = openDriver();
    // Made by hand as the driver would name and label it, but never started.
    await docker.createContainer({
      name: `dt-${driver.namespace}--stuck`,
      Image: 'busybox',
      Cmd: ['true'],
      Labels: { 'drivetrain.dev/managed': 'true', 'drivetrain.dev/namespace': driver.namespace, 'drivetrain.dev/task-id': 'stuck', 'drivetrain.dev/role': 'task' },
    });
    const container = await driver.getContainer('stuck');
    expect(await container.status()).toMatchObject({ done: true, exitCode: null, reason: 'Created' });
    expect(await container.wait({ signal: AbortSignal.timeout(5_000) })).toMatchObject({ done: true, exitCode: null, reason: 'Created' });
  });

  it('timeoutMs kills with SIGKILL: exit 137, reason DeadlineExceeded, also seen by a fresh driver', async () => {
    const driver = openDriver();
    const started = Date.now();
    const container = await driver.runContainer({ id: 'slow', image: 'busybox', command: ['sleep', '30'], timeoutMs: 300 });
    const { status } = await finish(container);
    expect(status).toMatchObject({ done: true, exitCode: 137, reason: 'DeadlineExceeded' });
    expect(Date.now() - started).toBeLessThan(10_000);
    const fresh = openDriver({ namespace: driver.namespace });
    expect(await (await fresh.getContainer('slow')).status()).toMatchObject({ exitCode: 137, reason: 'DeadlineExceeded' });
  });

  it('a SIGKILL from outside under a memory limit is not mistaken for an OOM kill', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'limited-killed', image: 'busybox', command: ['sleep', '30'], limits: { memoryBytes: 64 * 2 ** 20 } });
    const [info] = await docker.listContainers({ filters: { label: [`drivetrain.dev/namespace=${driver.namespace}`] } });
    await docker.getContainer(info!.Id).kill({ signal: 'SIGKILL' });
    const { status } = await finish(container);
    expect(status).toMatchObject({ done: true, exitCode: 137, reason: 'Error' });
  });

  it('a process killed by a signal from outside reports 128+n, never a silent 0', async () => {
    const driver = openDriver();
    const container = await driver.runContainer({ id: 'killed', image: 'busybox', command: ['sleep', '30'] });
    const [info] = await docker.listContainers({ filters: { label: [`drivetrain.dev/namespace=${driver.namespace}`] } });
    await docker.getContainer(info!.Id).kill({ signal: 'SIGKILL' });
    const { status } = await finish(container);
    expect(status).toMatchObject({ done: true, exitCode: 137, reason: 'Error' });
  });
});

describe('docker driver: configurations the engine refuses', () => {
  it('a network that does not exist is ContainerStartError, and nothing is left', async () => {
    const driver = openDriver({ networkMode: 'no-such-network' });
    const error = await driver.runContainer({ id: 'no-net', image: 'busybox', command: ['true'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerStartError);
    // Docker 20.10 refuses it at start; other versions at create.
    expect(['CreateContainerError', 'StartError']).toContain((error as ContainerStartError).reason);
    expect((error as Error).message).toMatch(/no-such-network/);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('a user unknown to the image is ContainerStartError StartError, and nothing is left', async () => {
    const driver = openDriver();
    const error = await driver.runContainer({ id: 'no-user', image: 'busybox', command: ['true'], user: 'nosuchuser' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerStartError);
    expect((error as ContainerStartError).reason).toBe('StartError');
    expect(await containersOf(driver.namespace)).toEqual([]);
  });
});
