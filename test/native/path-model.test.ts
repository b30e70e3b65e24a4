import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultWorkDir, taskDirName } from '../../src/names.js';
import { nativeFixture, runToEnd, task } from './helpers.js';

const fx = nativeFixture();

describe('native path model', () => {
  it('the default workDir is the container path mapped under <root>/<namespace>/tasks/<id>/fs', async () => {
    const driver = await fx.driver();
    const id = `Path Model ${fx.id('x')}`;
    const result = await runToEnd(driver, task(id, ['sh', '-c', 'pwd; echo hi > here']));
    const taskDir = join(fx.root, driver.namespace, 'tasks', taskDirName(id));
    const cwd = join(taskDir, 'fs', defaultWorkDir(id));
    expect(result.status).toMatchObject({ done: true, exitCode: 0 });
    expect(result.stdout).toBe(`${cwd}\n`);
    expect(readFileSync(join(cwd, 'here'), 'utf8')).toBe('hi\n');
    const record = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8'));
    expect(record).toMatchObject({ id, namespace: driver.namespace, status: { done: true, exitCode: 0 } });
    expect(record.labels).toMatchObject({ 'drivetrain.dev/managed': 'true', 'drivetrain.dev/namespace': driver.namespace });
    expect(typeof record.pid).toBe('number');
    expect(readFileSync(join(taskDir, 'stdout'), 'utf8')).toBe(`${cwd}\n`);
  });

  it('the same ID and workDir in two namespaces never share a directory', async () => {
    const [a, b] = await Promise.all([fx.driver(), fx.driver()]);
    const id = fx.id('shared');
    const workDir = '/work/space';
    const [ra, rb] = await Promise.all([
      runToEnd(a, task(id, ['sh', '-c', 'echo a > f; pwd'], { workDir })),
      runToEnd(b, task(id, ['sh', '-c', 'sleep 0.1; cat f 2>/dev/null || echo none; pwd'], { workDir })),
    ]);
    expect(ra.status.exitCode).toBe(0);
    expect(rb.stdout.split('\n')[0]).toBe('none');
    expect(ra.stdout).not.toBe(rb.stdout.split('\n').slice(1).join('\n'));
  });

  it('a relative mount appears inside the workDir as the volume directory; relative commands work', async () => {
    const driver = await fx.driver();
    const volume = 'tools';
    await driver.createVolume(volume);
    const volumeDir = join(fx.root, driver.namespace, 'volumes', volume);
    writeFileSync(join(volumeDir, 'hello'), '#!/bin/sh\necho "hello from $0"\n', { mode: 0o755 });
    const result = await runToEnd(driver, task(fx.id('rel'), ['./test/hello'], { mounts: [{ volume, path: 'test' }] }));
    expect(result.status).toMatchObject({ done: true, exitCode: 0 });
    expect(result.stdout).toBe('hello from ./test/hello\n');
    const written = await runToEnd(driver, task(fx.id('write'), ['sh', '-c', 'echo data > test/out'], { mounts: [{ volume, path: 'test' }] }));
    expect(written.status.exitCode).toBe(0);
    expect(readFileSync(join(volumeDir, 'out'), 'utf8')).toBe('data\n');
  });

  it('a read-only mount refuses writes, also by root, and the volume keeps its content', async () => {
    const driver = await fx.driver();
    const volume = 'ro';
    await driver.createVolume(volume);
    const volumeDir = join(fx.root, driver.namespace, 'volumes', volume);
    writeFileSync(join(volumeDir, 'f'), 'seed');
    const mounts = [{ volume, path: '/data', readOnly: true }];
    // The task finds the mapped mount path through its own working directory.
    const direct = await runToEnd(
      driver,
      task(fx.id('ro-direct'), ['sh', '-c', 'd="$(pwd | sed "s#/fs/.*#/fs#")/data"; cat "$d/f"; echo changed > "$d/f" && echo wrote-f; echo new > "$d/new" && echo wrote-new; exit 0'], { mounts }),
    );
    expect(direct.status).toMatchObject({ done: true, exitCode: 0 });
    expect(direct.stdout).toBe('seed');
    expect(direct.stderr).not.toBe('');
    expect(readFileSync(join(volumeDir, 'f'), 'utf8')).toBe('seed');
    expect(existsSync(join(volumeDir, 'new'))).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)('readOnlyMounts "copy" refuses writes of a non-root task and never changes the volume', async () => {
    const driver = await fx.driver({ readOnlyMounts: 'copy' });
    await driver.createVolume('ro-copy');
    const volumeDir = join(fx.root, driver.namespace, 'volumes', 'ro-copy');
    writeFileSync(join(volumeDir, 'f'), 'seed');
    const mounts = [{ volume: 'ro-copy', path: 'v', readOnly: true }];
    const id = fx.id('ro-copy');
    const result = await runToEnd(driver, task(id, ['sh', '-c', 'cat v/f; echo changed > v/f'], { mounts, user: '65534' }));
    expect(result.stdout).toBe('seed');
    expect(result.status.done).toBe(true);
    expect(result.status.exitCode).not.toBe(0);
    expect(readFileSync(join(volumeDir, 'f'), 'utf8')).toBe('seed');
    // The read-only copy is removed with the task although it has no write permission.
    await result.container.cleanup();
    expect(existsSync(join(fx.root, driver.namespace, 'tasks', taskDirName(id)))).toBe(false);
  });

  it('cleanup removes the task directory and leaves the volume', async () => {
    const driver = await fx.driver();
    const id = fx.id('gone');
    const { container } = await runToEnd(driver, task(id, ['sh', '-c', 'echo x > v/f'], { mounts: [{ volume: 'keep', path: 'v' }] }));
    const taskDir = join(fx.root, driver.namespace, 'tasks', taskDirName(id));
    expect(lstatSync(join(taskDir, 'fs', defaultWorkDir(id), 'v')).isSymbolicLink()).toBe(true);
    await container.cleanup();
    await container.cleanup();
    expect(existsSync(taskDir)).toBe(false);
    expect(readFileSync(join(fx.root, driver.namespace, 'volumes', 'keep', 'f'), 'utf8')).toBe('x\n');
  });
});
