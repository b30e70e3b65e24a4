import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { InvalidInputError } from '../../src/errors.js';
import { parseImageReference } from '../../src/image-reference.js';

/**
 * What an image archive holds and how the engine is to load it. Pure: no I/O.
 *
 * - A `docker save` archive has `manifest.json`: `[{ Config, RepoTags, Layers }]`, paths
 *   inside the archive (moby `image/tarexport`). The engine loads it as it is.
 * - An OCI image layout (image-spec `image-layout.md`) has `oci-layout`, `index.json`
 *   and `blobs/<alg>/<hex>`. Engines before Docker 25 cannot load one (they look for
 *   `manifest.json`, then a pre-1.10 `repositories`), so the plan adds a `manifest.json`
 *   naming the layout's own blobs: the engine reads the config and layers from those
 *   paths and decompresses gzip layers itself.
 *
 * An image's ID is the sha256 of its config, as the engine computes it.
 */

/** The entries of an archive: every name, and the small ones that may be JSON documents. */
export interface ArchiveContents {
  names: ReadonlySet<string>;
  documents: ReadonlyMap<string, Buffer>;
}

/** One image of an archive. */
export interface PlannedImage {
  /** `sha256:<hex>` of the image's config: the ID the engine gives it. */
  id: string;
  /** References the archive tags it with. */
  tags: string[];
}

export interface LoadPlan {
  images: PlannedImage[];
  /** A `manifest.json` to append, for an OCI layout that has none. */
  manifest?: Buffer;
}

const EXPECTED = 'a `docker save` or OCI image layout tar archive';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
/** How deep image indexes may nest in an OCI layout before the archive is refused. */
const MAX_INDEX_DEPTH = 4;

/** An entry name as the engine sees it once extracted: `./a/b/` is `a/b`. */
export function entryName(name: string): string {
  return posix.normalize(name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** Decides how to load the archive; a bad one is `InvalidInputError` (field `archive`) saying what is wrong. */
export function planLoad(contents: ArchiveContents): LoadPlan {
  if (contents.names.has('manifest.json')) return fromDockerManifest(contents);
  if (contents.names.has('index.json')) return fromOciIndex(contents);
  if (contents.names.size === 0) throw bad('it holds no entries');
  throw bad('it holds neither manifest.json nor index.json at its root (archives of Docker before 1.10 are not supported)');
}

function fromDockerManifest(contents: ArchiveContents): LoadPlan {
  const manifest = documentOf(contents, 'manifest.json', 'manifest.json');
  if (!Array.isArray(manifest) || manifest.length === 0) throw bad('manifest.json is not a non-empty array');
  const images = manifest.map((entry: { Config?: unknown; RepoTags?: unknown; Layers?: unknown } | null, i): PlannedImage => {
    const where = `manifest.json[${i}]`;
    if (typeof entry?.Config !== 'string') throw bad(`${where}.Config is not a path`);
    const config = bytesOf(contents, entry.Config, `${where}.Config`);
    if (!Array.isArray(entry.Layers)) throw bad(`${where}.Layers is not an array of paths`);
    entry.Layers.forEach((layer: unknown, j) => requireEntry(contents, layer, `${where}.Layers[${j}]`));
    const tags = entry.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw bad(`${where}.RepoTags is not an array of references`);
    return { id: digestOf(config), tags: tags as string[] };
  });
  return { images };
}

function fromOciIndex(contents: ArchiveContents): LoadPlan {
  const index = documentOf(contents, 'index.json', 'index.json') as { manifests?: unknown };
  if (!Array.isArray(index?.manifests)) throw bad('index.json has no "manifests" array');
  const images: PlannedImage[] = [];
  const entries: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  index.manifests.forEach((descriptor: Descriptor, i) => {
    const where = `index.json manifests[${i}]`;
    const found = manifestsOf(contents, descriptor, where, 0);
    if (found.length === 0) return;
    if (found.length > 1) {
      const platforms = found.map((f) => (f.platform ? `${f.platform.os}/${f.platform.architecture}${f.platform.variant ? `/${f.platform.variant}` : ''}` : '?'));
      throw bad(`${where} is an index of ${found.length} images (${platforms.join(', ')}); export one platform, e.g. with \`docker save --platform\` or \`skopeo copy --override-arch\``);
    }
    const manifest = found[0]!.manifest;
    const configPath = blobPath(manifest.config?.digest, `${where} config`);
    const config = bytesOf(contents, configPath, `${where} config`);
    if (!Array.isArray(manifest.layers)) throw bad(`the manifest of ${where} has no "layers" array`);
    const layers = manifest.layers.map((layer: Descriptor, j: number) => requireEntry(contents, blobPath(layer?.digest, `${where} layers[${j}]`), `${where} layers[${j}]`));
    const tags = tagOf(descriptor);
    entries.push({ Config: configPath, RepoTags: tags, Layers: layers });
    images.push({ id: digestOf(config), tags });
  });
  if (images.length === 0) throw bad('index.json lists no image');
  return { images, manifest: Buffer.from(JSON.stringify(entries)) };
}

interface Descriptor {
  mediaType?: string;
  digest?: unknown;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
  config?: Descriptor;
  layers?: unknown;
  manifests?: unknown;
}

/** The image manifests a descriptor leads to: itself, or those of the index it names (attestations left out). */
function manifestsOf(contents: ArchiveContents, descriptor: Descriptor, where: string, depth: number): Array<{ manifest: Descriptor; platform: Descriptor['platform'] }> {
  const document = documentOf(contents, blobPath(descriptor?.digest, where), where) as Descriptor;
  const isIndex = INDEX_TYPES.has(descriptor.mediaType ?? document?.mediaType ?? '') || Array.isArray(document?.manifests);
  if (!isIndex) return [{ manifest: document, platform: descriptor.platform }];
  if (depth >= MAX_INDEX_DEPTH) throw bad(`${where}: image indexes nest deeper than ${MAX_INDEX_DEPTH}`);
  const children = Array.isArray(document.manifests) ? (document.manifests as Descriptor[]) : [];
  return children
    .filter((child) => !isAttestation(child))
    .flatMap((child, i) => manifestsOf(contents, child, `${where} manifests[${i}]`, depth + 1));
}

/** BuildKit's attestation manifests ride along in indexes as platform `unknown/unknown`: they are no image. */
function isAttestation(descriptor: Descriptor): boolean {
  return descriptor?.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || descriptor?.platform?.os === 'unknown';
}

/**
 * The reference an OCI index entry names: containerd's `io.containerd.image.name` (a
 * full reference), else `org.opencontainers.image.ref.name` when it is a full
 * `name:tag` reference (the image spec also allows a bare tag, which names no repository).
 */
function tagOf(descriptor: Descriptor): string[] {
  const annotations = descriptor.annotations ?? {};
  for (const candidate of [annotations['io.containerd.image.name'], annotations['org.opencontainers.image.ref.name']]) {
    if (candidate === undefined) continue;
    try {
      const ref = parseImageReference(candidate);
      if (ref.tag !== undefined && ref.digest === undefined) return [candidate];
    } catch {
      // Not a full reference: the image loads untagged.
    }
  }
  return [];
}

function blobPath(digest: unknown, where: string): string {
  const match = typeof digest === 'string' ? /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest) : null;
  if (match === null) throw bad(`${where} has no valid digest`);
  return `blobs/${match[1]}/${match[2]}`;
}

function requireEntry(contents: ArchiveContents, path: unknown, where: string): string {
  if (typeof path !== 'string' || !contents.names.has(entryName(path))) throw bad(`${where} names ${JSON.stringify(path)}, which the archive does not hold`);
  return path;
}

function bytesOf(contents: ArchiveContents, path: string, where: string): Buffer {
  requireEntry(contents, path, where);
  const bytes = contents.documents.get(entryName(path));
  if (bytes === undefined) throw bad(`${where} names ${JSON.stringify(path)}, which is not a JSON document of at most 4 MiB`);
  return bytes;
}

function documentOf(contents: ArchiveContents, path: string, where: string): unknown {
  const bytes = bytesOf(contents, path, where);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw bad(`${where} (${path}) is not valid JSON`, error);
  }
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function bad(problem: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError('archive', `${EXPECTED}; ${problem}`, undefined, cause === undefined ? {} : { cause });
}
