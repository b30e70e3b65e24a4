/** How long the default-driver check waits for a Docker engine to answer, in milliseconds. */
const PING_TIMEOUT_MS = 1500;

/**
 * Whether a Docker engine answers `/_ping` within a short time. The client reads
 * `DOCKER_HOST` like the Docker driver does; any failure means "no engine".
 */
export async function dockerAnswers(timeoutMs = PING_TIMEOUT_MS): Promise<boolean> {
  try {
    const { default: Docker } = await import('dockerode');
    // The modem's timeout bounds the request; an unreachable socket fails at once anyway.
    const docker = new Docker({ timeout: timeoutMs });
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** The driver to use when none was named: `docker` when an engine answers, else `native`. */
export async function defaultDriverName(): Promise<'docker' | 'native'> {
  return (await dockerAnswers()) ? 'docker' : 'native';
}
