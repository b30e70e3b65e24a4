import { InvalidInputError } from './errors.js';
import { normaliseRegistry, registryServerAddress } from './image-reference.js';

/**
 * Credentials of one image registry, shared by the Docker driver's `pushImage` and the
 * Kubernetes driver's `createPullSecret`. Values are never echoed in errors.
 */
export interface RegistryCredentials {
  /**
   * The registry they are for: a host with optional port (`ghcr.io`, `127.0.0.1:5000`),
   * `docker.io` for Docker Hub. A scheme and path are dropped (`https://ghcr.io/v2/` is
   * `ghcr.io`), and Docker Hub's aliases (`index.docker.io`, `https://index.docker.io/v1/`)
   * are read as `docker.io`.
   */
  registry: string;
  /** The user name. */
  username?: string;
  /** The password, or an access token the registry accepts as one. */
  password?: string;
  /**
   * An identity token (an OAuth refresh token, as `docker login` keeps for some
   * registries), used instead of username and password. The Docker engine accepts it;
   * a Kubernetes pull secret cannot carry it.
   */
  identityToken?: string;
}

/** Checks credentials and returns them with the registry normalised (see {@link RegistryCredentials.registry}). */
export function validateCredentials(credentials: unknown, field = 'credentials'): RegistryCredentials {
  if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
    throw new InvalidInputError(field, 'an object { registry, username, password } or { registry, identityToken }', credentials);
  }
  const c = credentials as Record<string, unknown>;
  const registry = normaliseRegistry(c.registry as string, `${field}.registry`);
  for (const key of ['username', 'password', 'identityToken'] as const) {
    if (c[key] !== undefined && (typeof c[key] !== 'string' || (c[key] as string).includes('\0'))) {
      // The value itself may be secret: it is not echoed.
      throw new InvalidInputError(`${field}.${key}`, 'a string without NUL');
    }
  }
  const username = c.username as string | undefined;
  const password = c.password as string | undefined;
  const identityToken = c.identityToken as string | undefined;
  if (identityToken === undefined && (username === undefined || username === '' || password === undefined)) {
    throw new InvalidInputError(field, 'a non-empty username with a password, or an identityToken');
  }
  return { registry, ...defined({ username, password, identityToken }) };
}

/**
 * The content of a `kubernetes.io/dockerconfigjson` Secret (and of a Docker
 * `config.json` with only `auths`): one entry per registry, keyed as Docker's client keys
 * them (`https://index.docker.io/v1/` for Docker Hub, else the host), each with
 * `username`, `password` and `auth` (base64 of `username:password`).
 */
export function toDockerConfigJson(credentials: readonly RegistryCredentials[], field = 'credentials'): string {
  const auths: Record<string, { username: string; password: string; auth: string }> = {};
  credentials.forEach((given, i) => {
    const c = validateCredentials(given, `${field}[${i}]`);
    if (c.username === undefined || c.password === undefined) {
      throw new InvalidInputError(`${field}[${i}]`, 'a username and password: a pull secret cannot carry an identity token (use an access token as the password)');
    }
    const key = registryServerAddress(c.registry);
    if (key in auths) throw new InvalidInputError(`${field}[${i}].registry`, 'one entry per registry', c.registry);
    auths[key] = { username: c.username, password: c.password, auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  });
  return JSON.stringify({ auths });
}

function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
