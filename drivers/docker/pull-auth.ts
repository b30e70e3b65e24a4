import { validateCredentials, type RegistryCredentials } from '../../src/credentials.js';
import { readDockerCredentials } from '../../src/docker-config.js';
import { InvalidInputError } from '../../src/errors.js';
import { parseImageReference, registryServerAddress } from '../../src/image-reference.js';

/** The `authconfig` the engine's pull and push APIs take (sent as `X-Registry-Auth`). */
export interface EngineAuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** Credentials in the engine's shape. */
export function toEngineAuth(credentials: RegistryCredentials): EngineAuthConfig {
  return {
    ...(credentials.username === undefined ? {} : { username: credentials.username }),
    ...(credentials.password === undefined ? {} : { password: credentials.password }),
    ...(credentials.identityToken === undefined ? {} : { identitytoken: credentials.identityToken }),
    serveraddress: registryServerAddress(credentials.registry),
  };
}

/** Where the Docker driver finds the credentials of an image's registry for a pull. */
export interface PullCredentials {
  /** The credentials to pull `image` with, or `undefined` for an anonymous pull. */
  forImage(image: string, signal?: AbortSignal): Promise<RegistryCredentials | undefined>;
}

/**
 * Checks `options.registryCredentials` (one entry per registry) and returns the lookup a
 * pull uses: the given entry for the image's registry, else what Docker's own client
 * would send (`DOCKER_AUTH_CONFIG`, the config file and its credential helpers), read at
 * each pull so a `docker login` made while the driver lives is seen, as `docker pull` sees it.
 */
export function pullCredentials(given: unknown, dockerConfigPath: unknown): PullCredentials {
  if (given !== undefined && !Array.isArray(given)) {
    throw new InvalidInputError('options.registryCredentials', 'an array of { registry, username, password } or { registry, identityToken }', given);
  }
  if (dockerConfigPath !== undefined && (typeof dockerConfigPath !== 'string' || dockerConfigPath === '')) {
    throw new InvalidInputError('options.dockerConfigPath', 'a file path', dockerConfigPath);
  }
  const byRegistry = new Map<string, RegistryCredentials>();
  ((given ?? []) as unknown[]).forEach((entry, i) => {
    const credentials = validateCredentials(entry, `options.registryCredentials[${i}]`);
    if (byRegistry.has(credentials.registry)) {
      throw new InvalidInputError(`options.registryCredentials[${i}].registry`, `one entry per registry (${credentials.registry} is given twice)`, credentials.registry);
    }
    byRegistry.set(credentials.registry, credentials);
  });
  return {
    async forImage(image, signal) {
      const { registry } = parseImageReference(image, 'image');
      return (
        byRegistry.get(registry) ??
        readDockerCredentials(registry, { ...(typeof dockerConfigPath === 'string' ? { configPath: dockerConfigPath } : {}), ...(signal === undefined ? {} : { signal }) })
      );
    },
  };
}
