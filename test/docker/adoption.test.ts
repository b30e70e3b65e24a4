import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { engineEventStreams } from '../../drivers/docker/engine-events.js';
import { StartTimeoutError } from '../../src/errors.js';
import { docker, finish, openDriver } from './helpers.js';

/** A container named and labelled as the driver would, created but not started: another caller mid-run. */
async function createdByAnotherCaller(namespace: string, taskId: string, command: string[]): Promise<string> {
  const container = await docker.createContainer({
    name: `dt-${namespace}--${taskId}`,
    Image: 'busybox',
    Cmd: command,
    Labels: { 'drivetrain.dev/managed': 'true', 'drivetrain.dev/namespace': namespace, 'drivetrain.dev/task-id': taskId, 'drivetrain.dev/role': 'task' },
  });
  return container.id;
}

describe('docker driver: adopting a container another caller is starting', () => {
  it('waits for it to start (on the event stream) and returns it, without running the task again', async () => {
    const driver = openDriver();
    const id = await createdByAnotherCaller(driver.namespace, 'pending', ['echo', 'from the other caller']);
    const run = driver.runContainer({ id: 'pending', image: 'busybox', command: ['echo', 'from this caller'] });
    await docker.getContainer(id).start();
    const { status, stdout } = await finish(await run);
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    expect(stdout).toBe('from the other caller\n');
  });

  it('gives up with StartTimeoutError when it never starts', async () => {
    const driver = openDriver({ startTimeoutMs: 400 });
    await createdByAnotherCaller(driver.namespace, 'never-started', ['true']);
    const started = Date.now();
    await expect(driver.runContainer({ id: 'never-started', image: 'busybox', command: ['true'] })).rejects.toBeInstanceOf(StartTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('creates the task anew when the other caller removes its container instead of starting it', async () => {
    const driver = openDriver();
    const id = await createdByAnotherCaller(driver.namespace, 'abandoned', ['echo', 'never runs']);
    const run = driver.runContainer({ id: 'abandoned', image: 'busybox', command: ['echo', 'ran here'] });
    await docker.getContainer(id).remove({ force: true });
    const { stdout } = await finish(await run);
    expect(stdout).toBe('ran here\n');
  });

  it('drivers adopting at once wait on one event stream of the engine, closed when the last wait ends', async () => {
    const drivers = [openDriver(), openDriver()];
    const opened: string[] = [];
    const listen = (message: unknown): void => {
      const { operation } = message as { operation: string };
      if (operation.startsWith('GET /events')) opened.push(operation);
    };
    subscribe('drivetrain:engine:request', listen);
    try {
      const ids = await Promise.all(drivers.map((driver, i) => createdByAnotherCaller(driver.namespace, 'shared', ['echo', `caller ${i}`])));
      const runs = drivers.map((driver) => driver.runContainer({ id: 'shared', image: 'busybox', command: ['echo', 'this caller'] }));
      // Both adoptions subscribed before either container starts.
      const deadline = Date.now() + 20_000;
      while (engineEventStreams().subscribers < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(engineEventStreams()).toEqual({ streams: 1, subscribers: 2 });
      await Promise.all(ids.map((id) => docker.getContainer(id).start()));
      const outputs = await Promise.all(runs.map(async (run) => (await finish(await run)).stdout));
      expect(outputs).toEqual(['caller 0\n', 'caller 1\n']);
      expect(opened).toHaveLength(1);
      expect(engineEventStreams()).toEqual({ streams: 0, subscribers: 0 });
    } finally {
      unsubscribe('drivetrain:engine:request', listen);
    }
  });
});
