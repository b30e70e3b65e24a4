import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { containersOf, docker, finish, openDriver } from './helpers.js';
import { tarOf } from '../support/tar.js';

/** A tar of the given files (name → content). */
function tarOfFiles(files: Record<string, string>): Readable {
  return tarOf(Object.entries(files).map(([name, content]) => ({ name, content })));
}

/** Entry names and file contents of a tar stream. */
async function readTar(stream: Readable): Promise<Record<string, string>> {
  const extract = tar.extract();
  const out: Record<string, string> = {};
  const feeding = (async () => {
    for await (const chunk of stream) extract.write(chunk as Buffer);
    (extract as unknown as { end(): void }).end();
  })();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    out[entry.header.name] = Buffer.concat(chunks).toString('utf8');
  }
  await feeding;
  return out;
}

async function helpersOf(namespace: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`drivetrain.dev/namespace=${namespace}`, 'drivetrain.dev/role=helper'] } });
  return list.length;
}

describe('docker driver: volume copies and sandboxes', () => {
  it('copyToVolume rejects an entry escaping the volume root, and removes its helper', async () => {
    const driver = openDriver();
    await driver.createVolume('v');
    await expect(driver.copyToVolume('v', tarOfFiles({ '../escape': 'x' }))).rejects.toBeInstanceOf(InvalidInputError);
    expect(await helpersOf(driver.namespace)).toBe(0);
  });

  it('copyToVolume into a volume that does not exist is NotFoundError (no volume is made on the way)', async () => {
    const driver = openDriver();
    await expect(driver.copyToVolume('absent', tarOfFiles({ a: 'x' }))).rejects.toBeInstanceOf(NotFoundError);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('readFilesFromVolume: nested paths keep their directories; a missing path is NotFoundError; helpers are removed', async () => {
    const driver = openDriver();
    await driver.createVolume('files');
    await driver.copyToVolume('files', tarOfFiles({ 'top.txt': 'top', 'sub/deep/b.txt': 'b', 'sub/other.txt': 'o' }));
    const entries = await readTar(await driver.readFilesFromVolume('files', ['sub/deep/b.txt', 'top.txt']));
    expect(entries).toEqual({ 'sub/deep/b.txt': 'b', 'top.txt': 'top' });
    await expect(driver.readFilesFromVolume('files', ['top.txt', 'nope.txt'])).rejects.toBeInstanceOf(NotFoundError);
    await expect(driver.readFilesFromVolume('files', ['../etc/passwd'])).rejects.toBeInstanceOf(InvalidInputError);
    expect(await helpersOf(driver.namespace)).toBe(0);
  });

  it('copyFromVolume gives entries relative to the root and removes its helper once read', async () => {
    const driver = openDriver();
    await driver.createVolume('all');
    await driver.copyToVolume('all', tarOfFiles({ 'a.txt': 'a', 'd/b.txt': 'b' }));
    const entries = await readTar(await driver.copyFromVolume('all'));
    expect(entries['./a.txt']).toBe('a');
    expect(entries['./d/b.txt']).toBe('b');
    expect(Object.keys(entries).every((name) => name.startsWith('./'))).toBe(true);
    expect(await helpersOf(driver.namespace)).toBe(0);
  });

  it('a sandbox runs several execs with stdin, per-call env and exit codes, and stops at once on cleanup', async () => {
    const driver = openDriver();
    const sandbox = await driver.startSandbox({ id: 'box', image: 'busybox', env: { BASE: 'b' }, user: '65534' });
    const stdout = new CollectingWritable();
    expect(await sandbox.exec(['sh', '-c', 'cat; echo "$BASE$EXTRA"; touch here'], { stdin: 'in\n', env: { EXTRA: 'x' }, stdout })).toMatchObject({ done: true, exitCode: 0 });
    expect(stdout.text()).toBe('in\nbx\n');
    expect(await sandbox.exec(['sh', '-c', 'exit 3'])).toMatchObject({ done: true, exitCode: 3 });
    const started = Date.now();
    await sandbox.cleanup();
    await sandbox.cleanup();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('a task running as nobody can write its default working directory', async () => {
    const driver = openDriver();
    const { status, stdout } = await finish(await driver.runContainer({ id: 'nobody', image: 'busybox', command: ['sh', '-c', 'touch f && pwd'], user: 'nobody' }));
    expect(status.exitCode).toBe(0);
    expect(stdout).toBe('/tmp/drivetrain/nobody\n');
  });
});
