import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LABELS } from '../../src/labels.js';
import type { StoreApi } from '../k8s-server/api.js';
import { startLocalCluster } from '../k8s-server/cluster.js';
import { startControlServer } from '../k8s-server/control.js';
import { profileOptionsFromEnv, type ProfileOptions } from '../k8s-server/profile/profile.js';
import { DRIVER_CLUSTER } from './driver-cluster.js';
import { ensureEngine } from './engine.js';
import { establishTestRun, runDockerLabels } from './test-run.js';

/** What the projects that drive the drivers get: the suite's Kubernetes cluster. */
interface SharedCluster {
  kubeconfig: string;
  clusterUrl: string;
  clusterControlUrl: string;
  stop(): Promise<void>;
}

const SHARED = Symbol.for('drivetrain.test.sharedCluster');
type SharedState = { users: number; cluster: Promise<SharedCluster> };

/**
 * Global setup of the projects that drive the drivers (drivers, integration). First it sets
 * the run's tag, which every test namespace carries (test/setup/test-run.ts); then it makes
 * sure the Docker engine and the busybox test image are there (test/setup/engine.ts) and
 * provides the kubeconfig, URL and control endpoint (test/setup/provided.d.ts) of one local
 * Kubernetes API server, shared by every project of the run and stopped after the last —
 * unless the k8s conformance run targets a real cluster through KUBECONFIG. The native
 * conformance run (`DRIVETRAIN_CONFORMANCE_DRIVER=native`) needs neither engine nor cluster.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runTag = establishTestRun();
  const driver = process.env.DRIVETRAIN_CONFORMANCE_DRIVER;
  if (driver === 'native') return provide(project, { kubeconfig: '', clusterUrl: '', clusterControlUrl: '', stop: async () => {} });
  ensureEngine();
  if (driver === 'k8s' && (process.env.KUBECONFIG ?? '') !== '') {
    return provide(project, { kubeconfig: process.env.KUBECONFIG!, clusterUrl: '', clusterControlUrl: '', stop: async () => {} });
  }
  // The k8s driver's default helper image is pinned upstream and nothing here reaches it:
  // helpers run the local busybox (workers and the processes they start inherit this).
  process.env.DRIVETRAIN_K8S_HELPER_IMAGE ??= 'busybox';
  const state = globalThis as { [SHARED]?: SharedState };
  const shared = (state[SHARED] ??= { users: 0, cluster: startSharedCluster(runTag) });
  shared.users += 1;
  const teardown = provide(project, await shared.cluster);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete state[SHARED];
    await teardown();
  };
}

function provide(project: TestProject, cluster: SharedCluster): () => Promise<void> {
  project.provide('kubeconfig', cluster.kubeconfig);
  project.provide('clusterUrl', cluster.clusterUrl);
  project.provide('clusterControlUrl', cluster.clusterControlUrl);
  return cluster.stop;
}

async function startSharedCluster(runTag: string): Promise<SharedCluster> {
  const cluster = await startLocalCluster({ ...sharedProfile(process.env), dockerLabels: runDockerLabels() });
  const control = await startControlServer(cluster);
  return {
    kubeconfig: cluster.kubeconfigPath,
    clusterUrl: cluster.url,
    clusterControlUrl: control.url,
    stop: async () => {
      await control.close();
      reportLeftovers(cluster.store, runTag);
      await cluster.stop({ removeContainers: true });
      rmSync(cluster.stateDir, { recursive: true, force: true });
    },
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
