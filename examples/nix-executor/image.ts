import type { RegistryCredentials } from 'drivetrain';
import { loadImage, pushImage, tagImage } from 'drivetrain/docker';

/** Where the executor image goes, and the environment variables holding the registry's credentials. */
export interface RegistryConfig {
  /** `host[:port]` of the registry, e.g. `registry.example:5000`. */
  url: string;
  usernameEnv: string;
  passwordEnv: string;
}

/** The registry's credentials from the environment; a missing variable is named. */
export function credentialsFromEnv(registry: RegistryConfig, env: NodeJS.ProcessEnv = process.env): RegistryCredentials {
  const read = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`registry credentials: the environment variable ${name} is not set`);
    return value;
  };
  return { registry: registry.url, username: read(registry.usernameEnv), password: read(registry.passwordEnv) };
}

/**
 * setupWorkspace's image steps: `docker load < archive`, `docker tag` as
 * `<registry>/nixactions-executor:<content hash>`, `docker push` with the credentials.
 * Resolves with the pushed reference.
 */
export async function publishExecutorImage(archive: string, registry: RegistryConfig, credentials: RegistryCredentials, signal?: AbortSignal): Promise<string> {
  const images = await loadImage(archive, { signal });
  const image = images[0];
  if (images.length !== 1 || image === undefined) throw new Error(`${archive}: expected one image, found ${images.length}`);
  // The image ID is the sha256 of its config: a content hash, as the OCI executor tags by.
  const reference = `${registry.url}/nixactions-executor:${image.id.slice('sha256:'.length, 'sha256:'.length + 12)}`;
  await tagImage(image.id, reference, { signal });
  await pushImage(reference, { credentials, signal });
  return reference;
}
