import { InvalidInputError } from './errors.js';
import { validateImage } from './validate.js';

/**
 * Image references and registry names, read as Docker reads them
 * (distribution/reference `ParseNormalizedNamed`): the first path component is a
 * registry only when it has a `.` or a `:`, or is `localhost`; otherwise the image is
 * on Docker Hub, `docker.io`.
 */

/** Docker Hub's registry name. */
export const DOCKER_HUB = 'docker.io';

/**
 * The address Docker's client stores Docker Hub credentials under in `config.json`
 * and sends as `serveraddress` (docker/cli `registry.IndexServer`).
 */
export const DOCKER_HUB_SERVER_ADDRESS = 'https://index.docker.io/v1/';

/** An image reference taken apart. */
export interface ImageReference {
  /** Registry host with optional port: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository inside the registry: `library/busybox`, `org/app`. */
  repository: string;
  /** The tag, when the reference has one. */
  tag: string | undefined;
  /** The digest (`sha256:…`), when the reference has one. */
  digest: string | undefined;
  /** The name as the engine knows it locally: the reference without tag and digest (`busybox`, `127.0.0.1:5000/app`). */
  name: string;
}

/** Parses an image reference; rejects an invalid one with `InvalidInputError` naming `field`. */
export function parseImageReference(image: string, field = 'image'): ImageReference {
  validateImage(image, field);
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? normaliseRegistry(first) : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, tag, digest, name: rest };
}

/**
 * A registry as given by people and config files (`https://index.docker.io/v1/`,
 * `https://ghcr.io`, `127.0.0.1:5000/v2/`) as a host with optional port; Docker Hub's
 * aliases (`index.docker.io`, `registry-1.docker.io`) become `docker.io`. Like docker/cli
 * `ConvertToHostname`: the scheme and any path are dropped.
 */
export function normaliseRegistry(registry: string, field = 'registry'): string {
  if (typeof registry !== 'string' || registry.trim() === '') {
    throw new InvalidInputError(field, 'a registry host such as "ghcr.io", "127.0.0.1:5000" or "docker.io"', registry);
  }
  const host = registry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]!.toLowerCase();
  if (!/^[a-z0-9.-]+(?::\d+)?$|^\[[0-9a-f:.]+\](?::\d+)?$/.test(host)) {
    throw new InvalidInputError(field, 'a registry host with optional port, such as "ghcr.io" or "127.0.0.1:5000"', registry);
  }
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** The key Docker's client uses for a registry's credentials (and the `serveraddress` it sends). */
export function registryServerAddress(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_SERVER_ADDRESS : registry;
}
