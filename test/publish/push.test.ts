import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage, pushImage, tagImage, type PushProgress } from '../../drivers/docker/index.js';
import { InvalidInputError, NotFoundError, RegistryError } from '../../src/errors.js';
import { LOCAL_REGISTRY } from '../infra/registry.js';
import { docker, dockerSaveArchive, registryRequest, REGISTRY_CREDENTIALS, testRepository, uniqueImage } from './fixtures.js';

/**
 * `tagImage` and `pushImage` against the real engine and the local registry
 * (docker-registry with htpasswd auth on 127.0.0.1:5000).
 */

let dir: string;
let noConfig: string;
/** Local references tagged by the tests, untagged after. */
const tagged: string[] = [];
/** Manifests pushed, deleted from the registry after. */
const pushed: Array<{ repository: string; digest: string }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivetrain-push-'));
  noConfig = join(dir, 'absent-config.json');
});
afterAll(async () => {
  await Promise.all(tagged.map((ref) => docker.getImage(ref).remove().catch(() => undefined)));
  await Promise.all(pushed.map(({ repository, digest }) => registryRequest(`/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});

/** A fresh image loaded into the engine and tagged `<registry>/<unique repository>:<tag>`. */
async function localImage(registry: string = LOCAL_REGISTRY.host): Promise<{ id: string; reference: string; repository: string }> {
  const image = await uniqueImage();
  const [loaded] = await loadImage(Readable.from([await dockerSaveArchive([{ image, tags: [] }])]));
  const repository = testRepository('push');
  const reference = `${registry}/${repository}:${image.id.slice(7, 19)}`;
  await tagImage(loaded!.id, reference);
  tagged.push(reference);
  return { id: image.id, reference, repository };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

describe('tagImage and pushImage', () => {
  it('tags by ID and pushes with credentials: the registry holds the manifest under the digest returned', async () => {
    const { id, reference, repository } = await localImage();
    expect((await docker.getImage(reference).inspect()).Id).toBe(id);
    const progress: PushProgress[] = [];
    const result = await pushImage(reference, { credentials: REGISTRY_CREDENTIALS, onProgress: (p) => progress.push(p), signal: AbortSignal.timeout(60_000) });
    pushed.push({ repository, digest: result.digest });
    expect(result.reference).toBe(reference);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.sizeBytes).toBeGreaterThan(0);
    const manifest = await registryRequest(`/v2/${repository}/manifests/${reference.split(':').at(-1)}`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(result.digest);
    expect(((await manifest.json()) as { config: { digest: string } }).config.digest).toBe(id);
    expect(progress.some((p) => p.id !== undefined && /Pushed|Layer already exists|Mounted from/.test(p.status))).toBe(true);
  });

  it('reads the credentials from a Docker config file when none are given', async () => {
    const { reference, repository } = await localImage();
    const configPath = join(dir, 'config.json');
    const auth = Buffer.from(`${LOCAL_REGISTRY.username}:${LOCAL_REGISTRY.password}`).toString('base64');
    await writeFile(configPath, JSON.stringify({ auths: { [`https://${LOCAL_REGISTRY.host}/v1/`]: { auth } } }));
    const result = await pushImage(reference, { dockerConfigPath: configPath });
    pushed.push({ repository, digest: result.digest });
    expect((await registryRequest(`/v2/${repository}/manifests/${result.digest}`)).status).toBe(200);
  });

  it('wrong and missing credentials are RegistryError Unauthorized, and nothing is stored', async () => {
    const { reference, repository } = await localImage();
    const wrong = await rejection(pushImage(reference, { credentials: { ...REGISTRY_CREDENTIALS, password: 'not-the-password' } }));
    expect(wrong).toBeInstanceOf(RegistryError);
    expect(wrong).toMatchObject({ code: 'ERR_REGISTRY', reason: 'Unauthorized', registry: LOCAL_REGISTRY.host });
    expect((wrong as Error).message).toContain('refused the credentials of user "drivetrain"');
    expect((wrong as Error).message).not.toContain('not-the-password');
    const none = await rejection(pushImage(reference, { dockerConfigPath: noConfig }));
    expect(none).toMatchObject({ name: 'RegistryError', reason: 'Unauthorized' });
    expect((none as Error).message).toContain('requires credentials and none were given');
    expect((await registryRequest(`/v2/${repository}/tags/list`)).status).toBe(404);
  });

  it('a registry nothing listens at is RegistryError Unreachable', async () => {
    const port = await closedPort();
    const { reference } = await localImage(`127.0.0.1:${port}`);
    const error = await rejection(pushImage(reference, { credentials: { ...REGISTRY_CREDENTIALS, registry: `127.0.0.1:${port}` } }));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ reason: 'Unreachable', registry: `127.0.0.1:${port}` });
  });

  it('a missing image is NotFoundError; bad references and foreign credentials are InvalidInputError', async () => {
    const missing = `${LOCAL_REGISTRY.host}/${testRepository('missing')}:v1`;
    await expect(pushImage(missing, { credentials: REGISTRY_CREDENTIALS })).rejects.toBeInstanceOf(NotFoundError);
    await expect(tagImage(`sha256:${'0'.repeat(64)}`, missing)).rejects.toBeInstanceOf(NotFoundError);
    await expect(pushImage('Not A Reference')).rejects.toMatchObject({ name: 'InvalidInputError', field: 'image' });
    await expect(pushImage(`${missing}@sha256:${'a'.repeat(64)}`)).rejects.toMatchObject({ name: 'InvalidInputError', field: 'image' });
    const foreign = await rejection(pushImage(missing, { credentials: { ...REGISTRY_CREDENTIALS, registry: 'ghcr.io' } }));
    expect(foreign).toBeInstanceOf(InvalidInputError);
    expect(foreign).toMatchObject({ field: 'options.credentials.registry' });
  });

  it('an abort rejects with the reason', async () => {
    const { reference } = await localImage();
    const controller = new AbortController();
    const push = pushImage(reference, { credentials: REGISTRY_CREDENTIALS, signal: controller.signal, onProgress: () => controller.abort(new Error('stop pushing')) });
    await expect(push).rejects.toThrow('stop pushing');
  });
});

/** A port on 127.0.0.1 that was just free: nothing listens at it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
