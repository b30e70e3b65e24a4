import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConfigJson, LOCAL_REGISTRY, REGISTRY_BUSYBOX } from '../../infra/registry.js';
import { busyboxPod, containerState, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

/**
 * Pods pull from the local registry (docker-registry with htpasswd auth, started by
 * test/infra/setup.sh) through the Docker engine: credentials come from the pod's
 * imagePullSecrets, failures carry the engine's own words.
 */

let t: TestCluster;
const docker = new Dockerode();
beforeAll(async () => {
  t = await startTestCluster();
});
afterAll(async () => {
  await t?.stop();
  // Only the registry should hold it; a later run must pull it again.
  await docker.getImage(REGISTRY_BUSYBOX).remove().catch(() => undefined);
});

const waitingReason = (reason: string) => (o: any) => containerState(o)?.waiting?.reason === reason;
const eventsOf = (name: string) =>
  t.cluster.store
    .list('events', t.namespace)
    .filter((e: any) => e.involvedObject?.name === name)
    .map((e: any) => `${e.reason}: ${e.message}`);

async function pullSecret(name: string, config: string): Promise<void> {
  await t.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(config).toString('base64') } });
}

/** A pod running `image` with policy Always and the given pull secrets. */
function registryPod(name: string, image: string, secrets: string[]): Record<string, unknown> {
  return busyboxPod(name, 'echo pulled', { container: { image, imagePullPolicy: 'Always' }, spec: { imagePullSecrets: secrets.map((s) => ({ name: s })) } });
}

describe('pulls from the local registry', () => {
  it('imagePullSecrets authenticate the pull; Always pulls again although the image is present', async () => {
    const secret = randomName('creds');
    await pullSecret(secret, dockerConfigJson());
    for (const round of [1, 2]) {
      const name = randomName(`pull${round}`);
      await t.apply(registryPod(name, REGISTRY_BUSYBOX, [secret]));
      const pod = await t.waitFor('pods', name, isFinished);
      expect(pod!.status.phase).toBe('Succeeded');
      const events = eventsOf(name);
      expect(events).toContain(`Pulling: Pulling image "${REGISTRY_BUSYBOX}"`);
      expect(events.some((e) => e.startsWith(`Pulled: Successfully pulled image "${REGISTRY_BUSYBOX}" in `))).toBe(true);
      expect(events.some((e) => e.includes('already present'))).toBe(false);
      expect((await t.kubectl(['logs', name])).stdout).toBe('pulled\n');
    }
    const pulled = await docker.getImage(REGISTRY_BUSYBOX).inspect();
    expect(pulled.RepoDigests.some((d) => d.startsWith(`${LOCAL_REGISTRY.host}/busybox@sha256:`))).toBe(true);
  });

  it('a missing tag and a missing repository: the engine\'s "manifest unknown" in ErrImagePull, then ImagePullBackOff', async () => {
    const secret = randomName('creds');
    await pullSecret(secret, dockerConfigJson());
    const tag = `${LOCAL_REGISTRY.host}/busybox:no-such-tag`;
    const repo = `${LOCAL_REGISTRY.host}/no-such-repository:latest`;
    const [byTag, byRepo] = [randomName('tag'), randomName('repo')];
    await t.apply(registryPod(byTag, tag, [secret]));
    await t.apply(registryPod(byRepo, repo, [secret]));
    for (const [name, image] of [[byTag, tag], [byRepo, repo]] as const) {
      const failed = await t.waitFor('pods', name, waitingReason('ErrImagePull'));
      const message = `rpc error: code = Unknown desc = Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`;
      expect(containerState(failed).waiting.message).toBe(message);
      expect(eventsOf(name)).toContain(`Failed: Failed to pull image "${image}": ${message}`);
      const backoff = await t.waitFor('pods', name, waitingReason('ImagePullBackOff'));
      expect(containerState(backoff).waiting.message).toBe(`Back-off pulling image "${image}"`);
    }
    const described = await t.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${byTag}`]);
    expect(described.stdout).toContain('manifest unknown');
    expect(described.stdout).toContain('ImagePullBackOff');
  });

  it('no credentials, wrong credentials and a missing secret fail as the registry refuses them', async () => {
    const wrong = randomName('wrong');
    await pullSecret(wrong, dockerConfigJson(LOCAL_REGISTRY.username, 'not-the-password'));
    const [anonymous, denied, missing] = [randomName('anon'), randomName('denied'), randomName('missing')];
    await t.apply(registryPod(anonymous, REGISTRY_BUSYBOX, []));
    await t.apply(registryPod(denied, REGISTRY_BUSYBOX, [wrong]));
    await t.apply(registryPod(missing, REGISTRY_BUSYBOX, ['absent-secret']));
    const manifest = `http://${LOCAL_REGISTRY.host}/v2/busybox/manifests/latest`;
    for (const name of [anonymous, missing]) {
      const pod = await t.waitFor('pods', name, waitingReason('ErrImagePull'));
      expect(containerState(pod).waiting.message).toBe(`rpc error: code = Unknown desc = Error response from daemon: Head "${manifest}": no basic auth credentials`);
    }
    const pod = await t.waitFor('pods', denied, waitingReason('ErrImagePull'));
    expect(containerState(pod).waiting.message).toBe('rpc error: code = Unknown desc = Error response from daemon: unauthorized: authentication required');
    expect(eventsOf(missing)).toContain('FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (absent-secret); attempting to pull the image may not succeed.');
  });

  it('kubectl create secret docker-registry makes a secret the kubelet pulls with', async () => {
    const secret = randomName('kubectl-creds');
    const created = await t.kubectl(['create', 'secret', 'docker-registry', secret, `--docker-server=${LOCAL_REGISTRY.host}`, `--docker-username=${LOCAL_REGISTRY.username}`, `--docker-password=${LOCAL_REGISTRY.password}`]);
    expect(created.code).toBe(0);
    const name = randomName('kubectl-pull');
    await t.apply(registryPod(name, REGISTRY_BUSYBOX, [secret]));
    const pod = await t.waitFor('pods', name, isFinished);
    expect(pod!.status.phase).toBe('Succeeded');
  });
});
