import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver, loadImage, pushImage, tagImage, type DockerDriverOptions } from '../../drivers/docker/index.js';
import { ImagePullError, InvalidInputError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { LOCAL_REGISTRY } from '../infra/registry.js';
import { testNamespace } from '../setup/test-run.js';
import { docker, dockerSaveArchive, engineHas, registryRequest, REGISTRY_CREDENTIALS, testRepository, uniqueImage } from './fixtures.js';

/**
 * The Docker driver pulls a private image with credentials: given ones, or those of a
 * Docker config file (`docker login`). The image lives only in the local registry
 * (htpasswd auth on 127.0.0.1:5000), so each run below really pulls it.
 */

let dir: string;
let reference: string;
let pushedDigest: string;
let repository: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivetrain-pull-'));
  const image = await uniqueImage();
  const [loaded] = await loadImage(Readable.from([await dockerSaveArchive([{ image, tags: [] }])]));
  repository = testRepository('pull');
  reference = `${LOCAL_REGISTRY.host}/${repository}:1`;
  await tagImage(loaded!.id, reference);
  pushedDigest = (await pushImage(reference, { credentials: REGISTRY_CREDENTIALS })).digest;
  await forget();
});

afterAll(async () => {
  await forget();
  await registryRequest(`/v2/${repository}/manifests/${pushedDigest}`, { method: 'DELETE' }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Removes the image from the engine, so the next run must pull it from the registry. */
async function forget(): Promise<void> {
  await docker.getImage(reference).remove({ force: true }).catch(() => undefined);
  expect(await engineHas(reference)).toBe(false);
}

async function runOnce(options: DockerDriverOptions): Promise<string> {
  const driver = createDockerDriver({ namespace: testNamespace('pull'), ...options });
  try {
    const container = await driver.runContainer({ id: 'private', image: reference, command: ['echo', 'pulled'] }, { signal: AbortSignal.timeout(60_000) });
    const status = await container.wait({ signal: AbortSignal.timeout(30_000) });
    const stdout = new CollectingWritable();
    await container.logs({ stdout, stderr: stdout, signal: AbortSignal.timeout(30_000) });
    expect(status).toMatchObject({ done: true, exitCode: 0 });
    return stdout.text();
  } finally {
    await driver.close();
    await forget();
  }
}

describe('docker driver: pulls with registry credentials', { timeout: 120_000 }, () => {
  it('an anonymous pull of a private image fails with ImagePullError saying where credentials go', async () => {
    const run = runOnce({ dockerConfigPath: join(dir, 'absent-config.json') });
    await expect(run).rejects.toBeInstanceOf(ImagePullError);
    await expect(run).rejects.toThrow(/registryCredentials|docker login/);
  });

  it('options.registryCredentials are sent for their registry', async () => {
    expect(await runOnce({ registryCredentials: [REGISTRY_CREDENTIALS], dockerConfigPath: join(dir, 'absent-config.json') })).toBe('pulled\n');
  });

  it("a Docker config file's auths are used as `docker pull` uses them", async () => {
    const config = join(dir, 'config.json');
    const auth = Buffer.from(`${LOCAL_REGISTRY.username}:${LOCAL_REGISTRY.password}`).toString('base64');
    await writeFile(config, JSON.stringify({ auths: { [LOCAL_REGISTRY.host]: { auth } } }));
    expect(await runOnce({ dockerConfigPath: config })).toBe('pulled\n');
  });

  it('credentials given for another registry are not sent', async () => {
    const run = runOnce({ registryCredentials: [{ ...REGISTRY_CREDENTIALS, registry: 'registry.example' }], dockerConfigPath: join(dir, 'absent-config.json') });
    await expect(run).rejects.toBeInstanceOf(ImagePullError);
  });

  it('malformed credentials are refused at the factory, naming the entry', () => {
    expect(() => createDockerDriver({ registryCredentials: [{ registry: LOCAL_REGISTRY.host }] })).toThrow(InvalidInputError);
    expect(() => createDockerDriver({ registryCredentials: [{ registry: LOCAL_REGISTRY.host }] })).toThrow(/options\.registryCredentials\[0\]/);
    expect(() => createDockerDriver({ registryCredentials: [REGISTRY_CREDENTIALS, REGISTRY_CREDENTIALS] })).toThrow(/options\.registryCredentials\[1\]\.registry/);
    expect(() => createDockerDriver({ registryCredentials: REGISTRY_CREDENTIALS as never })).toThrow(/options\.registryCredentials/);
  });
});
