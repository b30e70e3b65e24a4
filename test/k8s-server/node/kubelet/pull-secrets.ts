import type { KObject, StoreApi } from '../../api.js';

/** One credential handed to the engine's pull, as the CRI's AuthConfig carries it. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** The registry host of an image reference, `docker.io` when the first part is not a host (reference.ParseNormalizedNamed). */
export function registryHost(image: string): string {
  const first = image.split('/')[0]!;
  const isHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

/** A key of a docker config (`https://127.0.0.1:5000/v2/`, `127.0.0.1:5000`, `https://index.docker.io/v1/`) as host and path. */
function parseKey(key: string): { host: string; path: string } {
  const bare = key.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const slash = bare.indexOf('/');
  let host = slash < 0 ? bare : bare.slice(0, slash);
  let path = slash < 0 ? '' : bare.slice(slash + 1);
  // The Docker Hub's legacy key names the whole hub (credentialprovider's defaultRegistryHost).
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  if (/^v[12]$/.test(path)) path = '';
  return { host, path };
}

/** Whether a config key applies to the image: same host, and the key's path a prefix of the repository (credentialprovider URLsMatch). */
function keyMatches(key: string, image: string): boolean {
  const { host, path } = parseKey(key);
  const imageHost = registryHost(image);
  if (host !== imageHost) return false;
  const repository = imageHost === 'docker.io' && !image.startsWith('docker.io/') ? image : image.slice(image.indexOf('/') + 1);
  return path === '' || repository === path || repository.startsWith(`${path}/`);
}

function decodeEntry(entry: any): { username: string; password: string } | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  if (typeof entry.username === 'string' || typeof entry.password === 'string') return { username: entry.username ?? '', password: entry.password ?? '' };
  if (typeof entry.auth === 'string') {
    // `auth` is base64("user:password"); the password may itself hold colons.
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return undefined;
}

/** The `auths` of a kubernetes.io/dockerconfigjson or legacy kubernetes.io/dockercfg secret. */
function authsOf(secret: KObject): Record<string, unknown> {
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) {
      return JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')).auths ?? {};
    }
    if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) return JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8'));
  } catch {
    // A malformed secret gives no credentials, as the kubelet's keyring skips it.
  }
  return {};
}

/**
 * The credentials a pod's imagePullSecrets give for `image`, in the order the
 * kubelet tries them (pkg/credentialprovider/secrets MakeDockerKeyring, keyring
 * Lookup: longer keys first). Missing secrets are reported with the kubelet's
 * FailedToRetrieveImagePullSecret event (kubelet_pods.go getPullSecretsForPod).
 */
export function pullCredentials(store: StoreApi, pod: KObject, image: string, event: (type: 'Warning', reason: string, message: string) => void): RegistryAuth[] {
  const refs: any[] = Array.isArray(pod.spec?.imagePullSecrets) ? pod.spec.imagePullSecrets : [];
  const missing: string[] = [];
  const entries: Array<{ key: string; auth: { username: string; password: string } }> = [];
  for (const ref of refs) {
    if (!ref?.name) continue;
    const secret = store.get('secrets', pod.metadata.namespace, ref.name);
    if (!secret) {
      missing.push(ref.name);
      continue;
    }
    for (const [key, value] of Object.entries(authsOf(secret))) {
      const auth = decodeEntry(value);
      if (auth && keyMatches(key, image)) entries.push({ key, auth });
    }
  }
  if (missing.length > 0) {
    event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
  }
  entries.sort((a, b) => parseKey(b.key).path.length - parseKey(a.key).path.length);
  return entries.map(({ auth }) => ({ ...auth, serveraddress: registryHost(image) }));
}
