import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../drivers/docker/index.js';
import { EngineError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { docker, dockerSaveArchive, engineHas, gzip, ociArchive, testRepository, uniqueImage, zstd } from './fixtures.js';
import { tarBytes } from '../support/tar.js';

/** `loadImage` against the real engine: archives in, images (and nothing else) out. */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivetrain-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const expectBadArchive = async (load: Promise<unknown>, says: RegExp): Promise<void> => {
  const error = await load.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as InvalidInputError).field).toBe('archive');
  expect((error as Error).message).toMatch(says);
};

describe('loadImage', () => {
  it("loads the engine's own `docker save` of busybox from a stream, with its tag", async () => {
    const repository = testRepository('save');
    const tag = `${repository}:v1`;
    await docker.getImage('busybox:latest').tag({ repo: repository, tag: 'v1' });
    const saved = (await docker.getImage(tag).get()) as unknown as Readable;
    const bytes = Buffer.concat(await saved.toArray());
    await docker.getImage(tag).remove();
    expect(await engineHas(tag)).toBe(false);
    const busybox = await docker.getImage('busybox:latest').inspect();
    const loaded = await loadImage(Readable.from([bytes]), { signal: AbortSignal.timeout(60_000) });
    expect(loaded).toEqual([{ id: busybox.Id, tags: [tag] }]);
    expect((await docker.getImage(tag).inspect()).Id).toBe(busybox.Id);
    await docker.getImage(tag).remove();
  });

  it('loads a new image from a file path, plain, gzip and zstd compressed', async () => {
    for (const compress of [(b: Buffer) => b, gzip, zstd]) {
      const image = await uniqueImage();
      const tag = `${testRepository('file')}:v1`;
      const path = join(dir, `${image.id.slice(7, 19)}.tar`);
      await writeFile(path, compress(await dockerSaveArchive([{ image, tags: [tag] }])));
      expect(await engineHas(image.id)).toBe(false);
      expect(await loadImage(path)).toEqual([{ id: image.id, tags: [tag] }]);
      const inspected = await docker.getImage(tag).inspect();
      expect(inspected.Id).toBe(image.id);
      expect(inspected.Config.Labels?.['drivetrain.test/nonce']).toBeDefined();
    }
  });

  it('loads an OCI image layout (gzip layer blobs, named by its index), which this engine cannot load by itself', async () => {
    const image = await uniqueImage();
    const tag = `${testRepository('oci')}:v2`;
    const archive = await ociArchive(image, { refName: tag });
    expect(await loadImage(Readable.from([archive]))).toEqual([{ id: image.id, tags: [tag] }]);
    const inspected = await docker.getImage(tag).inspect();
    expect(inspected.Id).toBe(image.id);
    expect(inspected.RootFS.Layers).toEqual(JSON.parse(image.config.toString()).rootfs.diff_ids);
    // A bare tag as ref.name names no repository: the image loads untagged.
    const untagged = await uniqueImage();
    expect(await loadImage(Readable.from([await ociArchive(untagged, { refName: 'v3' })]))).toEqual([{ id: untagged.id, tags: [] }]);
    expect(await engineHas(untagged.id)).toBe(true);
  });

  it('refuses bad archives with InvalidInputError before the engine loads anything', async () => {
    const image = await uniqueImage();
    const good = await dockerSaveArchive([{ image, tags: [] }]);
    await expectBadArchive(loadImage(Readable.from([Buffer.alloc(4096, 'not a tar ')])), /docker save` or OCI image layout/);
    await expectBadArchive(loadImage(Readable.from([])), /holds no entries/);
    await expectBadArchive(loadImage(Readable.from([await tarBytes([{ name: 'hello.txt', content: 'hi' }])])), /neither manifest.json nor index.json/);
    const missingLayer = await tarBytes([
      { name: `${image.id.slice(7)}.json`, content: image.config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: `${image.id.slice(7)}.json`, RepoTags: [], Layers: ['abc/layer.tar'] }]) },
    ]);
    await expectBadArchive(loadImage(Readable.from([missingLayer])), /Layers\[0\] names "abc\/layer.tar", which the archive does not hold/);
    await expectBadArchive(loadImage(Readable.from([Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), good])])), /xz compressed: decompress it first/);
    await expectBadArchive(loadImage(Readable.from([gzip(good).subarray(0, 2000)])), /valid gzip data/);
    await expectBadArchive(loadImage(Readable.from([await ociArchive(image, { platforms: 2 })])), /index of 2 images \(linux\/amd64, linux\/arm64\); export one platform/);
    expect(await engineHas(image.id)).toBe(false);
    await expect(loadImage(join(dir, 'no-such.tar'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(loadImage(42 as never)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("reports the engine's refusal inside its 200 answer as EngineError, and removes the images that call created", async () => {
    const [kept, created] = [await uniqueImage(), await uniqueImage()];
    const refused = await uniqueImage({ diffIds: [`sha256:${'0'.repeat(64)}`] });
    await loadImage(Readable.from([await dockerSaveArchive([{ image: kept, tags: [] }])]));
    const archive = await dockerSaveArchive([
      { image: kept, tags: [] },
      { image: created, tags: [] },
      { image: refused, tags: [] },
    ]);
    const error = await loadImage(Readable.from([archive])).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as Error).message).toMatch(/^the Docker engine could not load the image archive: /);
    expect(await engineHas(kept.id)).toBe(true);
    expect(await engineHas(created.id)).toBe(false);
    expect(await engineHas(refused.id)).toBe(false);
  });

  it('an abort while the archive streams rejects with the reason, stops the source and loads nothing', async () => {
    const image = await uniqueImage();
    const archive = await dockerSaveArchive([{ image, tags: [] }]);
    const controller = new AbortController();
    let reads = 0;
    const source = new Readable({
      read() {
        // The first half; when more is asked for, the upload is under way: abort then, and send nothing more.
        if (++reads === 1) this.push(archive.subarray(0, archive.length >> 1));
        else controller.abort(new Error('stop loading'));
      },
    });
    await expect(loadImage(source, { signal: controller.signal })).rejects.toThrow('stop loading');
    expect(reads).toBeGreaterThan(1);
    expect(source.destroyed).toBe(true);
    expect(await engineHas(image.id)).toBe(false);
  });
});
