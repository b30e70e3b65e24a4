import { Readable } from 'node:stream';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { loadImage, pushImage, tagImage } from '../../drivers/docker/index.js';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { ConflictError, ImagePullError } from '../../src/errors.js';
import { readLogs } from '../../src/logs.js';
import { LOCAL_REGISTRY } from '../infra/registry.js';
import { testNamespace } from '../setup/test-run.js';
import { docker, engineHas, ociArchive, registryRequest, REGISTRY_CREDENTIALS, testRepository, uniqueImage } from './fixtures.js';

/**
 * The Kubernetes side of publishing: a pull Secret made from registry credentials, and an
 * image published from an archive (load, tag, push) then run as a task on the local
 * cluster, whose kubelet pulls through the engine with the pod's imagePullSecrets.
 */

const kubeconfig = inject('kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const k8sNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
const TIMEOUT = 90_000;

const drivers: K8sDriver[] = [];
function newDriver(options: Partial<K8sDriverOptions> = {}): K8sDriver {
  const driver = createK8sDriver({ kubeconfig, namespace: testNamespace('pub'), ...options }) as K8sDriver;
  drivers.push(driver);
  return driver;
}
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

const readSecret = (name: string) => core.readNamespacedSecret({ name, namespace: k8sNamespace });
const secretNames = async (namespace: string): Promise<string[]> =>
  (await core.listNamespacedSecret({ namespace: k8sNamespace, labelSelector: `drivetrain.dev/namespace=${namespace}` })).items.map((s) => s.metadata!.name!);

describe('createPullSecret', () => {
  it('makes a labelled kubernetes.io/dockerconfigjson Secret, idempotently, updates it, and close() deletes it', async () => {
    const driver = newDriver();
    const name = `${driver.namespace}-regcred`;
    await driver.createPullSecret(name, REGISTRY_CREDENTIALS);
    const first = await readSecret(name);
    expect(first.type).toBe('kubernetes.io/dockerconfigjson');
    expect(first.metadata?.labels).toMatchObject({ 'drivetrain.dev/managed': 'true', 'drivetrain.dev/namespace': driver.namespace, 'drivetrain.dev/role': 'pull-secret' });
    const config = JSON.parse(Buffer.from(first.data!['.dockerconfigjson']!, 'base64').toString('utf8'));
    expect(config.auths[LOCAL_REGISTRY.host]).toMatchObject({ username: LOCAL_REGISTRY.username, password: LOCAL_REGISTRY.password });
    // The same credentials again, also from another instance: nothing is written.
    await newDriver({ namespace: driver.namespace }).createPullSecret(name, REGISTRY_CREDENTIALS);
    expect((await readSecret(name)).metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    await driver.createPullSecret(name, [{ ...REGISTRY_CREDENTIALS, password: 'rotated' }, { registry: 'ghcr.io', username: 'u', password: 'p' }]);
    const updated = JSON.parse(Buffer.from((await readSecret(name)).data!['.dockerconfigjson']!, 'base64').toString('utf8'));
    expect(Object.keys(updated.auths).sort()).toEqual([LOCAL_REGISTRY.host, 'ghcr.io']);
    expect(updated.auths[LOCAL_REGISTRY.host].password).toBe('rotated');
    expect(await secretNames(driver.namespace)).toEqual([name]);
    await driver.close();
    expect(await secretNames(driver.namespace)).toEqual([]);
  }, TIMEOUT);

  it("refuses to take over a Secret it did not make, and rejects bad names and credentials before writing", async () => {
    const driver = newDriver();
    const name = `${driver.namespace}-foreign`;
    await core.createNamespacedSecret({ namespace: k8sNamespace, body: { metadata: { name }, stringData: { token: 'keep me' } } });
    try {
      await expect(driver.createPullSecret(name, REGISTRY_CREDENTIALS)).rejects.toBeInstanceOf(ConflictError);
      expect((await readSecret(name)).data?.token).toBe(Buffer.from('keep me').toString('base64'));
      await driver.close();
      // Not labelled with the namespace: close leaves it.
      expect((await readSecret(name)).metadata?.name).toBe(name);
    } finally {
      await core.deleteNamespacedSecret({ name, namespace: k8sNamespace });
    }
    const other = newDriver();
    await expect(other.createPullSecret('Bad_Name', REGISTRY_CREDENTIALS)).rejects.toMatchObject({ name: 'InvalidInputError', field: 'name' });
    await expect(other.createPullSecret('ok-name', { registry: LOCAL_REGISTRY.host, identityToken: 't' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(other.createPullSecret('ok-name', [])).rejects.toMatchObject({ name: 'InvalidInputError', field: 'credentials' });
    expect(await secretNames(other.namespace)).toEqual([]);
  }, TIMEOUT);
});

describe('an image published from an archive runs on Kubernetes', () => {
  const pushed: Array<{ repository: string; digest: string }> = [];
  afterAll(async () => {
    await Promise.all(pushed.map(({ repository, digest }) => registryRequest(`/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined)));
  });

  it('load an OCI archive, tag it by content, push it with credentials; a task pulls it with imagePullPolicy Always and the pull secret', async () => {
    // The executor's image, as a Nix-style engine publishes it.
    const image = await uniqueImage();
    const [loaded] = await loadImage(Readable.from([await ociArchive(image)]));
    const repository = testRepository('k8s');
    const reference = `${LOCAL_REGISTRY.host}/${repository}:${loaded!.id.slice('sha256:'.length, 19)}`;
    await tagImage(loaded!.id, reference);
    const { digest } = await pushImage(reference, { credentials: REGISTRY_CREDENTIALS });
    pushed.push({ repository, digest });
    // Only the registry has it now: the kubelet must pull.
    await docker.getImage(image.id).remove({ force: true });
    expect(await engineHas(reference)).toBe(false);

    const driver = newDriver({ imagePullPolicy: 'Always', imagePullSecrets: ['regcred'] });
    await driver.createPullSecret('regcred', REGISTRY_CREDENTIALS);
    const container = await driver.runContainer({ id: 'published', image: reference, command: ['sh', '-c', 'echo from the registry'] }, { signal: AbortSignal.timeout(60_000) });
    expect((await container.wait()).exitCode).toBe(0);
    expect((await readLogs(container)).stdout).toBe('from the registry\n');
    expect((await docker.getImage(reference).inspect()).Id).toBe(image.id);

    // Without the secret the registry refuses the pull.
    await docker.getImage(image.id).remove({ force: true });
    const anonymous = newDriver({ imagePullPolicy: 'Always', pullTimeoutMs: 1000 });
    const failed = await anonymous.runContainer({ id: 'anonymous', image: reference, command: ['true'] }).then(() => undefined, (e: unknown) => e);
    expect(failed).toBeInstanceOf(ImagePullError);
    expect((failed as Error).message).toMatch(/no basic auth credentials/);
  }, TIMEOUT);
});
