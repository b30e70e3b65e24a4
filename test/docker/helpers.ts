import Dockerode from 'dockerode';
import { afterEach } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { Container, ContainerStatus } from '../../src/types.js';
import { createDockerDriver, type DockerDriverOptions } from '../../drivers/docker/index.js';
import type { DockerDriver } from '../../drivers/docker/index.js';
import { testNamespace } from '../setup/test-run.js';

/** A Docker client of the tests' own, to look at (and tamper with) what the driver made. */
export const docker = new Dockerode();

const opened: DockerDriver[] = [];

/** A driver closed after the test (whatever the test did). */
export function openDriver(options: DockerDriverOptions = {}): DockerDriver {
  const driver = createDockerDriver({ namespace: testNamespace('dk'), ...options });
  opened.push(driver);
  return driver;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

/** Waits for the end and reads all output. */
export async function finish(container: Container): Promise<{ status: ContainerStatus; stdout: string; stderr: string }> {
  const status = await container.wait({ signal: AbortSignal.timeout(30_000) });
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  await container.logs({ stdout, stderr, signal: AbortSignal.timeout(30_000) });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/** Names of the engine's containers labelled with `namespace`. */
export async function containersOf(namespace: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`drivetrain.dev/namespace=${namespace}`] } });
  return list.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
}

/**
 * Names of the engine's volumes labelled with `namespace`. The driver's owner record (role
 * `owner`) is a volume too while the driver is open; it is listed only with `withOwnerRecord`.
 */
export async function volumesOf(namespace: string, withOwnerRecord = false): Promise<string[]> {
  const list = await docker.listVolumes({ filters: { label: [`drivetrain.dev/namespace=${namespace}`] } });
  return (list.Volumes ?? []).filter((v) => withOwnerRecord || v.Labels?.['drivetrain.dev/role'] !== 'owner').map((v) => v.Name).sort();
}
