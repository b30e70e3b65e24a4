import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { getFromHelper } from './credential-helper.js';
import type { RegistryCredentials } from './credentials.js';
import { CredentialsError } from './errors.js';
import { normaliseRegistry, registryServerAddress } from './image-reference.js';

/** Where {@link readDockerCredentials} looks, and how long it may take. */
export interface DockerConfigOptions {
  /**
   * Path of the Docker client's config file.
   * @default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`
   */
  configPath?: string;
  /**
   * The environment read for `DOCKER_CONFIG`, `DOCKER_AUTH_CONFIG`, and handed to
   * credential helpers (their `PATH` included).
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Longest time a credential helper may take, in milliseconds (a keychain may wait
   * for the user); past it the read fails with `CredentialsError`.
   * @default 30000
   */
  helperTimeoutMs?: number;
  signal?: AbortSignal;
}

interface ConfigFile {
  auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }>;
  credsStore?: unknown;
  credHelpers?: Record<string, unknown>;
}

/**
 * The credentials Docker's own client would use for `registry`, or `undefined` when
 * none are configured (the push is then anonymous), read as docker/cli does
 * (`ConfigFile.GetCredentialsStore`, `GetAuthConfig`):
 *
 * 1. `DOCKER_AUTH_CONFIG`, a config document in the environment, when it has an entry;
 * 2. else the helper `credHelpers[registry]` names, else the `credsStore` helper
 *    (`docker-credential-<name> get`); when a helper is configured, `auths` is not read;
 * 3. else `auths[registry]`: `auth` (base64 of `user:password`), else `username` and
 *    `password`, and `identitytoken`. Keys with a scheme or path (`https://host/v1/`)
 *    match their host.
 *
 * A missing config file means no credentials. A file that is not JSON, a malformed
 * entry, or a helper that is missing or fails is `CredentialsError`.
 */
export async function readDockerCredentials(registry: string, options: DockerConfigOptions = {}): Promise<RegistryCredentials | undefined> {
  const host = normaliseRegistry(registry);
  const env = options.env ?? process.env;
  const inEnv = env.DOCKER_AUTH_CONFIG;
  if (inEnv !== undefined && inEnv !== '') {
    const found = fromAuths(parseConfig(inEnv, 'DOCKER_AUTH_CONFIG'), host, 'DOCKER_AUTH_CONFIG');
    if (found !== undefined) return found;
  }
  const path = options.configPath ?? join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  const config = await readConfig(path);
  if (config === undefined) return undefined;
  const serverAddress = registryServerAddress(host);
  const helper = helperFor(config, serverAddress, path);
  if (helper !== undefined) {
    const got = await getFromHelper(helper, serverAddress, { env, timeoutMs: options.helperTimeoutMs ?? 30_000, source: path, signal: options.signal });
    return got === undefined ? undefined : { registry: host, ...got };
  }
  return fromAuths(config, host, path);
}

async function readConfig(path: string): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsError(path, `cannot read the Docker config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, path);
}

function parseConfig(text: string, source: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CredentialsError(source, `${source} is not valid JSON; fix it, or pass credentials explicitly`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CredentialsError(source, `${source} is not a JSON object`);
  return parsed as ConfigFile;
}

/** `credHelpers` for the registry wins over `credsStore` (docker/cli `getConfiguredCredentialStore`). */
function helperFor(config: ConfigFile, serverAddress: string, source: string): string | undefined {
  const specific = config.credHelpers?.[serverAddress];
  const helper = specific ?? config.credsStore;
  if (helper === undefined || helper === '') return undefined;
  if (typeof helper !== 'string') throw new CredentialsError(source, `${source}: ${specific === undefined ? 'credsStore' : `credHelpers["${serverAddress}"]`} must be a helper name (a string)`);
  return helper;
}

/** The `auths` entry of the registry: by exact key first, then by a key whose host matches (docker/cli file store `Get`). */
function fromAuths(config: ConfigFile, host: string, source: string): RegistryCredentials | undefined {
  const auths = config.auths ?? {};
  if (typeof auths !== 'object' || auths === null) throw new CredentialsError(source, `${source}: "auths" must be an object`);
  const exact = registryServerAddress(host);
  const key = exact in auths ? exact : Object.keys(auths).find((k) => sameHost(k, host));
  if (key === undefined) return undefined;
  const entry = auths[key] ?? {};
  const where = `${source}: auths["${key}"]`;
  let username = typeof entry.username === 'string' ? entry.username : undefined;
  let password = typeof entry.password === 'string' ? entry.password : undefined;
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    // `auth` wins over username/password, as docker/cli's config loader decodes it over them.
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CredentialsError(source, `${where}.auth is not base64 of "username:password"`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1).replace(/\0+$/, '');
  }
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  if (identityToken === undefined && (username === undefined || username === '')) return undefined;
  return { registry: host, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), ...(identityToken === undefined ? {} : { identityToken }) };
}

function sameHost(key: string, host: string): boolean {
  try {
    return normaliseRegistry(key) === host;
  } catch {
    return false;
  }
}
