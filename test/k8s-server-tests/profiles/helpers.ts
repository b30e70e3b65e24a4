import https from 'node:https';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { KObject } from '../../k8s-server/api.js';
import { noopNode, type LocalCluster, type LocalClusterOptions } from '../../k8s-server/cluster.js';
import { useLocalCluster } from '../../setup/local-cluster.js';

/** A profile cluster of the file with a client-node config and a namespace of its own. */
export interface ProfileCluster {
  cluster: LocalCluster;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  namespace: string;
  /** GET with the kubeconfig's credentials: status and raw body, whatever the status. */
  get(path: string): Promise<{ status: number; body: Buffer; json(): any }>;
  /** Creates a busybox pod (restartPolicy Never) and waits until `until` holds (default: finished). */
  runPod(script: string, until?: (pod: KObject | undefined) => boolean, extra?: { container?: Record<string, unknown>; spec?: Record<string, unknown> }): Promise<KObject>;
  /** Waits (on store changes) until the object satisfies `test`; rejects after `timeoutMs`. */
  waitFor(resource: string, name: string, test: (o: KObject | undefined) => boolean, timeoutMs?: number): Promise<KObject | undefined>;
}

export const randomName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
export const isFinished = (o: KObject | undefined): boolean => o?.status?.phase === 'Succeeded' || o?.status?.phase === 'Failed';
export const isRunning = (o: KObject | undefined): boolean => o?.status?.phase === 'Running';

/** Starts a cluster of `options` for this file (see useLocalCluster); `apiOnly` runs no node. */
export async function profileCluster(options: LocalClusterOptions & { apiOnly?: boolean } = {}): Promise<ProfileCluster> {
  const { apiOnly, ...rest } = options;
  const cluster = await useLocalCluster({ ...rest, ...(apiOnly ? { startNode: noopNode } : {}) });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = randomName('prof');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const waitFor: ProfileCluster['waitFor'] = (resource, name, test, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        if (done) return;
        const object = cluster.store.get(resource, namespace, name);
        if (!test(object)) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(object);
      };
      const unsubscribe = cluster.store.subscribe(() => queueMicrotask(check));
      const timer = setTimeout(() => {
        done = true;
        unsubscribe();
        reject(new Error(`timed out waiting for ${resource} ${name}: ${JSON.stringify(cluster.store.get(resource, namespace, name)?.status)}`));
      }, timeoutMs);
      check();
    });
  return {
    cluster,
    kc,
    core,
    batch: kc.makeApiClient(k8s.BatchV1Api),
    namespace,
    waitFor,
    async get(path) {
      const requestOptions: https.RequestOptions = { agent: false };
      await kc.applyToHTTPSOptions(requestOptions);
      return new Promise((resolve, reject) => {
        https
          .get(`${cluster.url}${path}`, requestOptions, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const body = Buffer.concat(chunks);
              resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body.toString()) });
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
    },
    async runPod(script, until = isFinished, extra = {}) {
      const name = randomName('pod');
      const container = { name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...(extra.container ?? {}) };
      await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [container as k8s.V1Container], ...(extra.spec ?? {}) } } });
      return (await waitFor('pods', name, until))!;
    },
  };
}
