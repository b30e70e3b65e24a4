import type Dockerode from 'dockerode';

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

async function pull(docker: Dockerode, image: string): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`pull of ${image} timed out`)), PULL_TIMEOUT_MS);
  timer.unref();
  try {
    const stream = await docker.pull(image, { abortSignal: abort.signal } as object);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes the image available following the container's imagePullPolicy, reporting
 * the kubelet events (Pulling/Pulled/Failed) through `event`.
 */
export async function ensureImage(
  docker: Dockerode,
  container: { image: string; imagePullPolicy?: string },
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
    await pull(docker, image);
  } catch (error) {
    // Policy Always with the image already here: a real kubelet fails too, but with no
    // registry reachable the local copy is the only way pods with :latest images ever run.
    if (present) {
      event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageID: present, pulled: false };
    }
    const message = `Failed to pull image "${image}": ${(error as Error).message}`;
    event('Warning', 'Failed', message);
    event('Warning', 'Failed', 'Error: ErrImagePull');
    return { ok: false, reason: 'ErrImagePull', message };
  }
  const imageID = (await localImageID(docker, image)) ?? '';
  event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${Date.now() - started}ms`);
  return { ok: true, imageID, pulled: true };
}
