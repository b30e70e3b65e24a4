import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { LABELS } from '../../src/labels.js';
import type { StoreApi } from '../k8s-server/api.js';
import { startLocalCluster } from '../k8s-server/cluster.js';
import { startControlServer } from '../k8s-server/control.js';
import { profileOptionsFromEnv, type ProfileOptions } from '../k8s-server/profile/profile.js';
import { DRIVER_CLUSTER } from './driver-cluster.js';
import { establishTestRun } from './test-run.js';

/**
 * Runs once before the whole suite: makes sure a Docker engine answers and the
 * local `busybox` test image exists (installing and starting them on a fresh
 * machine), so Docker tests never skip for lack of an engine. Then starts one local
 * Kubernetes API server for the whole run and provides its kubeconfig, URL and
 * control endpoint (see test/setup/provided.d.ts) — unless the k8s conformance run
 * targets a real cluster through KUBECONFIG. First of all it sets the run's tag, which
 * every test namespace carries (test/setup/test-run.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runTag = establishTestRun();
  const script = fileURLToPath(new URL('../infra/setup.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });

  const realCluster = process.env.DRIVETRAIN_CONFORMANCE_DRIVER === 'k8s' && !!process.env.KUBECONFIG;
  if (realCluster) {
    project.provide('kubeconfig', process.env.KUBECONFIG!);
    project.provide('clusterUrl', '');
    project.provide('clusterControlUrl', '');
    return async () => {};
  }
  // The k8s driver's default helper image is pinned upstream and nothing here reaches it:
  // helpers run the local busybox (workers and the processes they start inherit this).
  process.env.DRIVETRAIN_K8S_HELPER_IMAGE ??= 'busybox';
  const cluster = await startLocalCluster(sharedProfile(process.env));
  const control = await startControlServer(cluster);
  project.provide('kubeconfig', cluster.kubeconfigPath);
  project.provide('clusterUrl', cluster.url);
  project.provide('clusterControlUrl', control.url);
  return async () => {
    await control.close();
    reportLeftovers(cluster.store, runTag);
    await cluster.stop({ removeContainers: true });
    rmSync(cluster.stateDir, { recursive: true, force: true });
  };
}

/**
 * The shared cluster's profile: `KUBE_VERSION`, `FEATURE_GATES`, … as `make cluster` takes them
 * (`KUBE_VERSION=1.28 make conformance DRIVER=k8s`). Without `FEATURE_GATES` it is the newest
 * version with split log streams on ({@link DRIVER_CLUSTER}).
 */
function sharedProfile(env: NodeJS.ProcessEnv): ProfileOptions {
  const options = profileOptionsFromEnv(env);
  return env.FEATURE_GATES === undefined ? { ...DRIVER_CLUSTER, ...options } : options;
}

/**
 * Writes what the cluster still holds with drivetrain's labels to
 * .drivetrain/runs/<run tag>/leaks-k8s-<pid>.json (one file per cluster: a vitest started
 * inside the run starts its own); `make test` fails when a list is not empty.
 */
function reportLeftovers(store: StoreApi, runTag: string): void {
  const leftovers = ['pods', 'persistentvolumeclaims', 'jobs'].flatMap((resource) =>
    store.list(resource, undefined, `${LABELS.managed}=true`).map((object) => ({
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
      drivetrainNamespace: object.metadata.labels?.[LABELS.namespace],
    })),
  );
  const directory = join('.drivetrain', 'runs', runTag);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `leaks-k8s-${process.pid}.json`), `${JSON.stringify(leftovers, null, 2)}\n`);
}
