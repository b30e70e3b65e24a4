import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { afterEach, inject } from 'vitest';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { createNativeDriver } from '../../drivers/native/index.js';
import { LABELS } from '../../src/labels.js';
import type { Driver } from '../../src/types.js';
import { testNamespace } from '../setup/test-run.js';

/** The tests' own Docker client, to look at what the drivers made. */
export const docker = new Dockerode();

/** One driver under test: how to make it, how much time it needs, how to count what it left. */
export interface DriverUnderTest {
  readonly name: 'docker' | 'native' | 'k8s';
  create(namespace: string): Driver;
  /** Time budget of one operation in ms (pods are slower than containers). */
  readonly budgetMs: number;
  /** How many task containers (pods, process records) of `namespace` exist on the engine right now. */
  countTasks(namespace: string): Promise<number>;
}

let kubeApi: CoreV1Api | undefined;
function k8sApi(): CoreV1Api {
  if (kubeApi === undefined) {
    const config = new KubeConfig();
    config.loadFromFile(inject('kubeconfig'));
    kubeApi = config.makeApiClient(CoreV1Api);
  }
  return kubeApi;
}

/** Task containers of `namespace` on the shared Docker engine. */
export async function dockerCount(namespace: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.namespace}=${namespace}`] } });
  return list.length;
}

/** Pods of `namespace` on the shared local cluster (the driver's default Kubernetes namespace). */
export async function k8sCount(namespace: string): Promise<number> {
  const pods = await k8sApi().listNamespacedPod({ namespace: 'default', labelSelector: `${LABELS.namespace}=${namespace}` });
  return pods.items.length;
}

/** Task records of `namespace` under the native driver's default root. */
export function nativeCount(namespace: string): Promise<number> {
  const dir = join(tmpdir(), 'drivetrain-native', namespace, 'tasks');
  return Promise.resolve(existsSync(dir) ? readdirSync(dir).length : 0);
}

export const DOCKER: DriverUnderTest = { name: 'docker', create: (namespace) => createDockerDriver({ namespace }), budgetMs: 30_000, countTasks: dockerCount };
export const NATIVE: DriverUnderTest = { name: 'native', create: (namespace) => createNativeDriver({ namespace }), budgetMs: 30_000, countTasks: nativeCount };
export const K8S: DriverUnderTest = {
  name: 'k8s',
  // Nothing can be pulled here: give a missing image 15 s in ErrImagePull/ImagePullBackOff, not 2 min.
  create: (namespace) => createK8sDriver({ namespace, kubeconfig: inject('kubeconfig'), pullTimeoutMs: 15_000 }) as Driver,
  budgetMs: 90_000,
  countTasks: k8sCount,
};

/** Every driver, for `describe.each`. */
export const ALL_DRIVERS: readonly DriverUnderTest[] = [DOCKER, NATIVE, K8S];

/** A random task ID with a readable prefix. */
export function randomId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

const opened: Driver[] = [];

/** A fresh driver of a random namespace, closed after the test whatever it did. */
export function openDriver(under: DriverUnderTest, namespace = testNamespace('rel')): Driver {
  const driver = under.create(namespace);
  opened.push(driver);
  return driver;
}

afterEach(async () => {
  const drivers = opened.splice(0);
  await Promise.all(drivers.map((driver) => driver.close({ signal: AbortSignal.timeout(60_000) })));
}, 90_000);

/** A command run by the image's shell. */
export function sh(script: string): string[] {
  return ['sh', '-c', script];
}
