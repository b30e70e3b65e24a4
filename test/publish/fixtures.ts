import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import Dockerode from 'dockerode';
import { afterAll } from 'vitest';
import { LOCAL_REGISTRY } from '../infra/registry.js';
import { readTar } from '../conformance/helpers.js';
import { tarBytes } from '../support/tar.js';

/**
 * Image archives for the publishing tests, built from the local busybox: its one layer,
 * taken from the engine's own `docker save`, under a config with a random label, so
 * every image is new to the engine (an ID nobody else uses) and can be removed after.
 * Archives follow `docker save` (moby image/tarexport) and the OCI image layout
 * (image-spec image-layout.md) as the engines and tools write them.
 */

export const docker = new Dockerode();
export const REGISTRY_CREDENTIALS = { registry: LOCAL_REGISTRY.host, ...LOCAL_REGISTRY };

/** A unique image: its config (bytes), its ID, and busybox's layer. */
export interface ImageFixture {
  id: string;
  config: Buffer;
  /** The layer as an uncompressed tar. */
  layer: Buffer;
}

let base: Promise<{ config: Record<string, any>; layer: Buffer }> | undefined;

/** busybox's config and layer, from the engine's `docker save` (read once per test file). */
function busybox(): Promise<{ config: Record<string, any>; layer: Buffer }> {
  base ??= (async () => {
    const files = await readTar((await docker.getImage('busybox:latest').get()) as unknown as Readable);
    const manifest = JSON.parse(files.get('manifest.json')!.content.toString('utf8'))[0];
    return { config: JSON.parse(files.get(manifest.Config)!.content.toString('utf8')), layer: files.get(manifest.Layers[0])!.content };
  })();
  return base;
}

/** Removed from the engine after the file's tests, with every tag. */
const made = new Set<string>();
afterAll(async () => {
  await Promise.all([...made].map((id) => docker.getImage(id).remove({ force: true }).catch(() => undefined)));
});

/**
 * A fresh image (not yet in the engine); `diffIds` replaces the config's layer digests (to make
 * an image the engine refuses); `env` (`NAME=value`) is added to the config's environment.
 */
export async function uniqueImage(options: { diffIds?: string[]; env?: string[] } = {}): Promise<ImageFixture> {
  const { config, layer } = await busybox();
  const own = structuredClone(config);
  own.config = { ...own.config, Labels: { 'drivetrain.test/nonce': randomBytes(8).toString('hex') } };
  if (options.env !== undefined) own.config.Env = [...(own.config.Env ?? []), ...options.env];
  if (options.diffIds !== undefined) own.rootfs = { ...own.rootfs, diff_ids: options.diffIds };
  const bytes = Buffer.from(JSON.stringify(own));
  const id = `sha256:${sha256(bytes)}`;
  made.add(id);
  return { id, config: bytes, layer };
}

/** A unique name for a test's images. */
export function testRepository(prefix: string): string {
  return `drivetrain-test/${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A `docker save` archive (the layout of Docker before 25: `<id>.json`, `<layer>/layer.tar`, manifest.json). */
export function dockerSaveArchive(images: Array<{ image: ImageFixture; tags: string[] }>): Promise<Buffer> {
  const files: Array<[string, Buffer]> = [];
  const manifest = images.map(({ image, tags }) => {
    const hex = image.id.slice('sha256:'.length);
    const layerDir = sha256(Buffer.concat([image.layer, Buffer.from(hex)]));
    files.push([`${hex}.json`, image.config], [`${layerDir}/VERSION`, Buffer.from('1.0')], [`${layerDir}/layer.tar`, image.layer]);
    return { Config: `${hex}.json`, RepoTags: tags, Layers: [`${layerDir}/layer.tar`] };
  });
  files.push(['manifest.json', Buffer.from(JSON.stringify(manifest))]);
  return tarBytes(files.map(([name, content]) => ({ name, content, mode: 0o644 })));
}

/**
 * An OCI image layout: gzip layer and config as blobs, a manifest, and index.json naming
 * it (`org.opencontainers.image.ref.name` as skopeo writes it, a full `name:tag`). With
 * `platforms`, index.json points at an image index of that many platform manifests.
 */
export function ociArchive(image: ImageFixture, options: { refName?: string; platforms?: number } = {}): Promise<Buffer> {
  const files: Array<[string, Buffer]> = [['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')]];
  const blob = (bytes: Buffer, mediaType: string): { mediaType: string; digest: string; size: number } => {
    files.push([`blobs/sha256/${sha256(bytes)}`, bytes]);
    return { mediaType, digest: `sha256:${sha256(bytes)}`, size: bytes.length };
  };
  const layer = blob(gzipSync(image.layer), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = blob(image.config, 'application/vnd.oci.image.config.v1+json');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] }));
  let top = blob(manifest, 'application/vnd.oci.image.manifest.v1+json');
  if (options.platforms !== undefined) {
    const manifests = Array.from({ length: options.platforms }, (_, i) => ({ ...top, platform: { os: 'linux', architecture: ['amd64', 'arm64', 's390x'][i % 3] } }));
    top = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })), 'application/vnd.oci.image.index.v1+json');
  }
  const annotations = options.refName === undefined ? {} : { annotations: { 'org.opencontainers.image.ref.name': options.refName } };
  files.push(['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, ...annotations }] }))]);
  return tarBytes(files.map(([name, content]) => ({ name, content, mode: 0o644 })));
}

export const gzip = (bytes: Buffer): Buffer => gzipSync(bytes);
export const zstd = (bytes: Buffer): Buffer => zstdCompressSync(bytes);

/** Whether the engine has an image (by ID or reference). */
export async function engineHas(image: string): Promise<boolean> {
  return docker.getImage(image).inspect().then(
    () => true,
    (error: { statusCode?: number }) => {
      if (error.statusCode === 404) return false;
      throw error;
    },
  );
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A registry API request to the local registry, with its credentials. */
export function registryRequest(path: string, init: RequestInit = {}): Promise<Response> {
  const auth = Buffer.from(`${LOCAL_REGISTRY.username}:${LOCAL_REGISTRY.password}`).toString('base64');
  return fetch(`http://${LOCAL_REGISTRY.host}${path}`, { ...init, headers: { authorization: `Basic ${auth}`, accept: 'application/vnd.docker.distribution.manifest.v2+json', ...init.headers }, signal: AbortSignal.timeout(10_000) });
}
