import type Dockerode from 'dockerode';
import { registryHost, type RegistryAuth } from './pull-secrets.js';

/** The outcome of making a container's image available. */
export type ImageResult =
  | { ok: true; imageID: string; pulled: boolean }
  | { ok: false; reason: 'InvalidImageName' | 'ErrImageNeverPull' | 'ErrImagePull'; message: string };

// Docker's reference grammar, reduced: [domain[:port]/]path[:tag][@digest].
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?';
const REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

export function isValidImageReference(image: string): boolean {
  return REFERENCE.test(image);
}

/** The image's digest-like id (`docker-pullable://…` in real kubelets; the local image id here). */
async function localImageID(docker: Dockerode, image: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.RepoDigests?.[0] ? `docker-pullable://${info.RepoDigests[0]}` : info.Id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** Pull time limit: a registry that does not answer must not stall the pod forever. */
const PULL_TIMEOUT_MS = 120_000;

async function pull(docker: Dockerode, image: string, authconfig?: RegistryAuth): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`pull of ${image} timed out`)), PULL_TIMEOUT_MS);
  timer.unref();
  try {
    const stream = await docker.pull(image, { abortSignal: abort.signal, ...(authconfig ? { authconfig } : {}) } as object);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pull error as a kubelet on cri-dockerd reports it: the engine's answer as the
 * Docker client words it ("Error response from daemon: …" for an HTTP error, the
 * progress stream's own message otherwise), carried over gRPC with code Unknown.
 */
function criPullError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // docker-modem writes "(HTTP code 404) unexpected - <the engine's message> ".
  const http = /^\(HTTP code \d+\) [^-]*- ([\s\S]*?)\s*$/.exec(text);
  return `rpc error: code = Unknown desc = ${http ? `Error response from daemon: ${http[1]}` : text}`;
}

/**
 * Pulls with each credential in turn until one works, without any when none applies
 * (kuberuntime_image.go PullImage); the errors of every try are aggregated as
 * utilerrors.NewAggregate prints them.
 */
async function pullWithCredentials(docker: Dockerode, image: string, credentials: RegistryAuth[]): Promise<void> {
  if (credentials.length === 0) {
    try {
      return await pull(docker, image);
    } catch (error) {
      throw new Error(criPullError(error));
    }
  }
  const failures: string[] = [];
  for (const auth of credentials) {
    try {
      return await pull(docker, image, auth);
    } catch (error) {
      failures.push(criPullError(error));
    }
  }
  throw new Error(failures.length === 1 ? failures[0] : `[${failures.join(', ')}]`);
}

/** Go's time.Duration printing of a millisecond count: 523ms, 1.2s, 1m3.5s. */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** Registries on this machine: a failed pull from one of them is real, never papered over. */
function isLocalRegistry(image: string): boolean {
  const host = registryHost(image).replace(/:\d+$/, '');
  return host === 'localhost' || host.startsWith('127.');
}

/**
 * Makes the image available following the container's imagePullPolicy, reporting
 * the kubelet events (Pulling/Pulled/Failed) through `event`: pkg/kubelet/images/
 * image_manager.go `EnsureImageExists`, `shouldPullImage` (when to pull) and
 * `evalCRIPullErr` (ErrImagePull with the CRI error as its message).
 */
export async function ensureImage(
  docker: Dockerode,
  container: { image: string; imagePullPolicy?: string },
  credentials: RegistryAuth[],
  event: (type: 'Normal' | 'Warning', reason: string, message: string) => void,
): Promise<ImageResult> {
  const image = container.image;
  if (!image || !isValidImageReference(image)) {
    const message = `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": invalid reference format`;
    event('Warning', 'InspectFailed', message);
    return { ok: false, reason: 'InvalidImageName', message };
  }
  const untaggedOrLatest = !/:[\w][\w.-]*$/.test(image.replace(/^[^/]*\//, '')) || image.endsWith(':latest');
  const policy = container.imagePullPolicy ?? (untaggedOrLatest ? 'Always' : 'IfNotPresent');
  const present = await localImageID(docker, image);
  if (present && policy !== 'Always') {
    event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return { ok: true, imageID: present, pulled: false };
  }
  if (!present && policy === 'Never') {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    event('Warning', 'ErrImageNeverPull', message);
    return { ok: false, reason: 'ErrImageNeverPull', message };
  }
  event('Normal', 'Pulling', `Pulling image "${image}"`);
  const started = Date.now();
  try {
    await pullWithCredentials(docker, image, credentials);
  } catch (error) {
    // Policy Always with the image already here and its registry out of reach (nothing
    // leaves this machine): a real kubelet fails, but the local copy is the only way pods
    // with docker.io :latest images ever run. A registry on this machine fails for real.
    if (present && !isLocalRegistry(image)) {
      event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageID: present, pulled: false };
    }
    // image_manager.go EnsureImageExists: the event says which image, the waiting message is the CRI error itself.
    const message = (error as Error).message;
    event('Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
    event('Warning', 'Failed', 'Error: ErrImagePull');
    return { ok: false, reason: 'ErrImagePull', message };
  }
  const imageID = (await localImageID(docker, image)) ?? '';
  const size = await docker
    .getImage(image)
    .inspect()
    .then((info) => info.Size, () => 0);
  const took = goDuration(Date.now() - started);
  event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
  return { ok: true, imageID, pulled: true };
}
