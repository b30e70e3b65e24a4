import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { loadKubeConfig } from '../../drivers/k8s/kubeconfig.js';
import { resolveKubernetesNamespace } from '../../drivers/k8s/options.js';
import { createK8sDriver } from '../../drivers/k8s/index.js';

const dir = mkdtempSync(join(tmpdir(), 'drivetrain-k8s-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfigFile(name: string, context: string, namespace?: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: `${context}-cluster`, cluster: { server: `https://127.0.0.1:1/${context}` } }],
      users: [{ name: `${context}-user`, user: { token: 't' } }],
      contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user`, ...(namespace ? { namespace } : {}) } }],
      'current-context': context,
    }),
  );
  return path;
}

describe('kubeconfig and namespace resolution', () => {
  const first = kubeconfigFile('first', 'one', 'team-a');
  const second = kubeconfigFile('second', 'two');

  it('loads an explicit path, and rejects a missing one naming the option', () => {
    expect(loadKubeConfig({ kubeconfig: first }).getCurrentContext()).toBe('one');
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'nope') })).toThrow(InvalidInputError);
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'nope') })).toThrow(/options\.kubeconfig/);
  });

  it('merges every existing file of KUBECONFIG, skipping missing ones, first current-context wins', () => {
    const kc = loadKubeConfig({}, { KUBECONFIG: [join(dir, 'missing'), first, second].join(delimiter) });
    expect(kc.getContexts().map((c) => c.name).sort()).toEqual(['one', 'two']);
    expect(kc.getCurrentContext()).toBe('one');
  });

  it('merges duplicate names as kubectl does: the first file to define a name wins, whole', () => {
    const write = (name: string, body: object): string => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'Config', ...body }));
      return path;
    };
    const cluster = (name: string, server: string) => ({ name, cluster: { server } });
    const early = write('early', {
      clusters: [cluster('prod', 'https://127.0.0.1:1/early')],
      users: [{ name: 'me', user: { token: 'early-token' } }],
      contexts: [{ name: 'work', context: { cluster: 'prod', user: 'me', namespace: 'early-ns' } }],
    });
    const late = write('late', {
      clusters: [cluster('prod', 'https://127.0.0.1:1/late'), cluster('other', 'https://127.0.0.1:1/other')],
      users: [{ name: 'me', user: { token: 'late-token' } }],
      contexts: [{ name: 'work', context: { cluster: 'other', user: 'me' } }],
      'current-context': 'work',
    });
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const kc = loadKubeConfig({}, { KUBECONFIG: [empty, early, late].join(delimiter) });
    // current-context: the first file that sets one (here the second), not the first file's empty value.
    expect(kc.getCurrentContext()).toBe('work');
    expect(kc.getContextObject('work')).toMatchObject({ cluster: 'prod', namespace: 'early-ns' });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1/early');
    expect(kc.getCurrentUser()?.token).toBe('early-token');
    expect(kc.getClusters().map((c) => c.name).sort()).toEqual(['other', 'prod']);
    expect(resolveKubernetesNamespace(undefined, kc, {})).toBe('early-ns');
  });

  it('switches to the requested context, and lists the known ones when it does not exist', () => {
    const kc = loadKubeConfig({ context: 'two' }, { KUBECONFIG: [first, second].join(delimiter) });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1/two');
    expect(() => loadKubeConfig({ context: 'three' }, { KUBECONFIG: [first, second].join(delimiter) })).toThrow(/options\.context.*one, two/);
  });

  it('without any kubeconfig outside a pod, says where one is looked for (never a server named "undefined")', () => {
    const home = join(dir, 'empty-home');
    const nowhere = { HOME: home, USERPROFILE: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' };
    expect(() => loadKubeConfig({}, nowhere)).toThrow(InvalidInputError);
    expect(() => loadKubeConfig({}, nowhere)).toThrow(/^invalid kubeconfig: expected a kubeconfig: KUBECONFIG, ~\/\.kube\/config, or a pod's service account \(KUBERNETES_SERVICE_HOST\)$/);
  });

  it('prefers a KubeConfig object over any path', () => {
    const given = new KubeConfig();
    given.loadFromFile(second);
    expect(loadKubeConfig({ kubeConfig: given, kubeconfig: first })).toBe(given);
  });

  // Nothing is contacted until the first operation, so these drivers need no close().
  it('createK8sDriver without a namespace picks a random one, as createDriver does, and validates a given one', () => {
    const driver = createK8sDriver({ kubeconfig: first });
    expect(driver.namespace).toMatch(/^dt-[0-9a-f]{8}$/);
    expect(createK8sDriver({ kubeconfig: first }).namespace).not.toBe(driver.namespace);
    expect(createK8sDriver({ kubeconfig: first, namespace: 'ci-7' }).namespace).toBe('ci-7');
    expect(() => createK8sDriver({ kubeconfig: first, namespace: 'Bad Name' })).toThrow(InvalidInputError);
  });

  it('resolves the Kubernetes namespace: option > env > context > default', () => {
    const kc = loadKubeConfig({ kubeconfig: first });
    expect(resolveKubernetesNamespace('explicit', kc, { DRIVETRAIN_K8S_NAMESPACE: 'env' })).toBe('explicit');
    expect(resolveKubernetesNamespace(undefined, kc, { DRIVETRAIN_K8S_NAMESPACE: 'env' })).toBe('env');
    expect(resolveKubernetesNamespace(undefined, kc, {})).toBe('team-a');
    expect(resolveKubernetesNamespace(undefined, loadKubeConfig({ kubeconfig: second }), {})).toBe('default');
    expect(() => resolveKubernetesNamespace('Not_Valid', kc, {})).toThrow(/options\.kubernetesNamespace/);
  });
});

// The cluster's side (objects created as rendered, no request made, the same errors as a start): test/k8s/render.test.ts.
describe('object names and rendering, without a cluster', () => {
  const kubeconfig = kubeconfigFile('render', 'render', 'builds');
  const pods = createK8sDriver({ kubeconfig, namespace: 'ci-9', reapOrphans: false });
  const jobs = createK8sDriver({ kubeconfig, namespace: 'ci-9', reapOrphans: false, mode: 'job', ttlSecondsAfterFinished: 30 });
  const task = { id: 'Build #1', image: 'busybox', command: ['make'], mounts: [{ volume: 'cache', path: '/c' }, { volume: 'out_1', path: '/o' }, { volume: 'cache', path: '/r', readOnly: true }] };

  it('names the Pod or Job and the claims as the objects a start creates are named', () => {
    for (const id of ['Build #1', 'plain', 'x'.repeat(200)]) {
      expect(pods.renderTask({ ...task, id }).object.metadata?.name).toBe(pods.taskObjectName(id));
      expect(jobs.renderTask({ ...task, id }).object.metadata?.name).toBe(jobs.taskObjectName(id));
      expect(pods.renderSandbox({ id, image: 'busybox' }).object.metadata?.name).toBe(pods.taskObjectName(id));
    }
    expect(pods.taskObjectName('plain')).toBe('dt-ci-9--plain');
    expect(pods.taskObjectName('Build #1')).toMatch(/^dt-ci-9--build-1-[0-9a-f]{10}$/);
    expect(pods.renderTask(task).volumeClaims.map((claim) => claim.metadata?.name)).toEqual([pods.volumeClaimName('cache'), pods.volumeClaimName('out_1')]);
    expect(pods.volumeClaimName('cache')).toBe('dt-ci-9--vol-cache');
    expect(() => pods.taskObjectName('')).toThrow(/^invalid id: /);
    expect(() => pods.volumeClaimName('Bad Volume')).toThrow(InvalidInputError);
  });

  it('renders a Pod in pod mode, a Job around the same pod in job mode, and a sandbox as a Pod in either', () => {
    const pod = pods.renderTask(task).object;
    const job = jobs.renderTask(task).object;
    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'builds' } });
    if (job.kind !== 'Job') throw new Error(`job mode rendered a ${job.kind}`);
    expect(job).toMatchObject({ apiVersion: 'batch/v1', spec: { backoffLimit: 0, ttlSecondsAfterFinished: 30 } });
    expect(job.spec?.template.spec).toEqual(pod.spec);
    expect(jobs.renderSandbox({ id: 'box', image: 'busybox' }).object.kind).toBe('Pod');
  });

  it('gives the caller its own copies', () => {
    const shaped = createK8sDriver({ kubeconfig, namespace: 'ci-9', reapOrphans: false, affinity: { nodeAffinity: {} }, defaultResources: { limits: { cpu: '1' } } });
    const first = shaped.renderTask(task).object;
    if (first.kind !== 'Pod') throw new Error('pod mode rendered a Job');
    (first.spec?.affinity as Record<string, unknown>).mutated = true;
    (first.spec?.containers[0]?.resources?.limits as Record<string, unknown>).cpu = '99';
    expect(shaped.renderTask(task).object).toEqual(shaped.renderTask(task).object);
    expect(JSON.stringify(shaped.renderTask(task).object)).not.toMatch(/mutated|"99"/);
  });
});
