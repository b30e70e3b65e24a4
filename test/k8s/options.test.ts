import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { loadKubeConfig, resolveKubernetesNamespace } from '../../drivers/k8s/options.js';

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

  it('switches to the requested context, and lists the known ones when it does not exist', () => {
    const kc = loadKubeConfig({ context: 'two' }, { KUBECONFIG: [first, second].join(delimiter) });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1/two');
    expect(() => loadKubeConfig({ context: 'three' }, { KUBECONFIG: [first, second].join(delimiter) })).toThrow(/options\.context.*one, two/);
  });

  it('prefers a KubeConfig object over any path', () => {
    const given = new KubeConfig();
    given.loadFromFile(second);
    expect(loadKubeConfig({ kubeConfig: given, kubeconfig: first })).toBe(given);
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
