import { describe, expect, inject, it } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { createDriver } from '../../src/registry.js';
import type { Task } from '../../src/types.js';
import { ALL_DRIVERS, openDriver, randomId, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * Bad input refused at the entry with InvalidInputError naming the field, on every driver,
 * and nothing created. Complements test/conformance/invalid-input.ts (empty/whitespace image,
 * empty command, negative limits and timeout, duplicate mounts, reserved labels, empty/NUL IDs).
 */
const SECRET = 's3cr3t-value-never-shown';
const TASK_CASES: ReadonlyArray<{ title: string; field: RegExp; change: (task: Task) => Task }> = [
  { title: 'an image with upper case', field: /^task\.image$/, change: (t) => ({ ...t, image: 'BusyBox' }) },
  { title: 'an image with a space', field: /^task\.image$/, change: (t) => ({ ...t, image: 'busy box' }) },
  { title: 'an image with an empty tag', field: /^task\.image$/, change: (t) => ({ ...t, image: 'busybox:' }) },
  { title: 'an ID of 1025 characters', field: /^task\.id$/, change: (t) => ({ ...t, id: 'x'.repeat(1025) }) },
  { title: 'a command that is a string', field: /^task\.command$/, change: (t) => ({ ...t, command: 'echo hi' as unknown as string[] }) },
  { title: 'a command argument with NUL', field: /^task\.command\[1\]$/, change: (t) => ({ ...t, command: ['echo', 'a\0b'] }) },
  { title: 'a blank program name', field: /^task\.command\[0\]$/, change: (t) => ({ ...t, command: [' ', 'x'] }) },
  { title: 'an env key with "="', field: /^task\.env key "A=B"$/, change: (t) => ({ ...t, env: { 'A=B': 'x' } }) },
  { title: 'an empty env key', field: /^task\.env key ""$/, change: (t) => ({ ...t, env: { '': 'x' } }) },
  { title: 'an env value with NUL', field: /^task\.env\.TOKEN$/, change: (t) => ({ ...t, env: { TOKEN: `${SECRET}\0` } }) },
  { title: 'an env value that is a number', field: /^task\.env\.N$/, change: (t) => ({ ...t, env: { N: 5 as unknown as string } }) },
  { title: 'absurd cpu shares (1e12)', field: /^task\.limits\.cpuShares$/, change: (t) => ({ ...t, limits: { cpuShares: 1e12 } }) },
  { title: 'fractional cpu shares', field: /^task\.limits\.cpuShares$/, change: (t) => ({ ...t, limits: { cpuShares: 1.5 } }) },
  { title: 'an absurd memory limit (1 PiB)', field: /^task\.limits\.memoryBytes$/, change: (t) => ({ ...t, limits: { memoryBytes: 2 ** 50 } }) },
  { title: 'a memory limit of 1 byte', field: /^task\.limits\.memoryBytes$/, change: (t) => ({ ...t, limits: { memoryBytes: 1 } }) },
  { title: 'a NaN memory limit', field: /^task\.limits\.memoryBytes$/, change: (t) => ({ ...t, limits: { memoryBytes: Number.NaN } }) },
  { title: 'limits that are not an object', field: /^task\.limits$/, change: (t) => ({ ...t, limits: 5 as unknown as Task['limits'] }) },
  { title: 'an infinite timeout', field: /^task\.timeoutMs$/, change: (t) => ({ ...t, timeoutMs: Number.POSITIVE_INFINITY }) },
  { title: 'a zero timeout', field: /^task\.timeoutMs$/, change: (t) => ({ ...t, timeoutMs: 0 }) },
  { title: 'a relative mount path with ".."', field: /^task\.mounts\[0\]\.path$/, change: (t) => ({ ...t, mounts: [{ volume: 'v1', path: '../escape' }] }) },
  { title: 'a mount on "/"', field: /^task\.mounts\[0\]\.path$/, change: (t) => ({ ...t, mounts: [{ volume: 'v1', path: '/' }] }) },
  { title: 'a mount volume name of 64 characters', field: /^task\.mounts\[0\]\.volume$/, change: (t) => ({ ...t, mounts: [{ volume: 'v'.repeat(64), path: 'data' }] }) },
  { title: 'mounts that are not an array', field: /^task\.mounts$/, change: (t) => ({ ...t, mounts: {} as unknown as Task['mounts'] }) },
  { title: 'a relative workDir', field: /^task\.workDir$/, change: (t) => ({ ...t, workDir: 'work' }) },
  { title: 'a workDir with ".."', field: /^task\.workDir$/, change: (t) => ({ ...t, workDir: '/tmp/../etc' }) },
  { title: 'privileged as a string', field: /^task\.privileged$/, change: (t) => ({ ...t, privileged: 'yes' as unknown as boolean }) },
  { title: 'a user with shell characters', field: /^task\.user$/, change: (t) => ({ ...t, user: 'root; rm -rf /' }) },
  { title: 'a label value of 64 characters', field: /^task\.labels\["team"\]$/, change: (t) => ({ ...t, labels: { team: 'a'.repeat(64) } }) },
  { title: 'stdin that is a number', field: /^task\.stdin$/, change: (t) => ({ ...t, stdin: 42 as unknown as string }) },
];

describe.each(ALL_DRIVERS)('bad input on $name', (under: DriverUnderTest) => {
  for (const { title, field, change } of TASK_CASES) {
    it(`runContainer refuses ${title}: InvalidInputError naming ${field.source}, nothing created, no secret echoed`, async () => {
      const namespace = testNamespace('rbi');
      const driver = openDriver(under, namespace);
      const task = change({ id: randomId('bad'), image: 'busybox', command: ['true'], env: { SAFE: SECRET } });
      const error = await driver.runContainer(task, { signal: AbortSignal.timeout(under.budgetMs) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toMatch(field);
      expect(String((error as Error).message) + String((error as Error).stack)).not.toContain(SECRET);
      expect(await under.countTasks(namespace)).toBe(0);
    });
  }

  it('createVolume refuses a name of 64 characters and a negative size, naming each', async () => {
    const driver = openDriver(under);
    const signal = AbortSignal.timeout(under.budgetMs);
    await expect(driver.createVolume('v'.repeat(64), { signal })).rejects.toBeInstanceOf(InvalidInputError);
    const error = await driver.createVolume('ok-name', { sizeBytes: -1, signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toMatch(/sizeBytes/);
  });

  it('readFilesFromVolume refuses a path that climbs out with ".." or is absolute', async () => {
    const driver = openDriver(under);
    const signal = AbortSignal.timeout(under.budgetMs);
    const volume = await driver.createVolume(randomId('rv'), { signal });
    await expect(driver.readFilesFromVolume!(volume, ['../outside'], { signal })).rejects.toBeInstanceOf(InvalidInputError);
    // An absolute path is refused (native) or read relative to the volume root (docker, k8s): never the host's file.
    const absolute = await driver.readFilesFromVolume!(volume, ['/etc/passwd'], { signal }).catch((e: unknown) => e);
    expect(absolute instanceof InvalidInputError || absolute instanceof NotFoundError, String(absolute)).toBe(true);
    await expect(driver.readFilesFromVolume!(volume, [], { signal })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('getContainer refuses an ID with NUL and one of 1025 characters', async () => {
    const driver = openDriver(under);
    const signal = AbortSignal.timeout(under.budgetMs);
    await expect(driver.getContainer('a\0b', { signal })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(driver.getContainer('x'.repeat(1025), { signal })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('createDriver refuses an invalid namespace naming options.namespace', async () => {
    const error = await createDriver(under.name, { namespace: 'Bad_NS!' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('options.namespace');
  });
});

describe('createK8sDriver called directly', () => {
  it('refuses an invalid namespace naming options.namespace', () => {
    let error: unknown;
    try {
      createK8sDriver({ namespace: 'Bad_NS!', kubeconfig: inject('kubeconfig') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('options.namespace');
  });
});
