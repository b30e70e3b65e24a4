import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from '../k8s-server/cluster.js';
import { startControlServer } from '../k8s-server/control.js';

/**
 * Runs once before the whole suite: makes sure a Docker engine answers and the
 * local `busybox` test image exists (installing and starting them on a fresh
 * machine), so Docker tests never skip for lack of an engine. Then starts one local
 * Kubernetes API server for the whole run and provides its kubeconfig, URL and
 * control endpoint (see test/setup/provided.d.ts) — unless the k8s conformance run
 * targets a real cluster through KUBECONFIG.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const script = fileURLToPath(new URL('../infra/setup.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });

  const realCluster = process.env.DRIVETRAIN_CONFORMANCE_DRIVER === 'k8s' && !!process.env.KUBECONFIG;
  if (realCluster) {
    project.provide('kubeconfig', process.env.KUBECONFIG!);
    project.provide('clusterUrl', '');
    project.provide('clusterControlUrl', '');
    return async () => {};
  }
  const cluster = await startLocalCluster();
  const control = await startControlServer(cluster);
  project.provide('kubeconfig', cluster.kubeconfigPath);
  project.provide('clusterUrl', cluster.url);
  project.provide('clusterControlUrl', control.url);
  return async () => {
    await control.close();
    await cluster.stop({ removeContainers: true });
    rmSync(cluster.stateDir, { recursive: true, force: true });
  };
}
