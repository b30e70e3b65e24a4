import { rmSync } from 'node:fs';
import type { KObject } from '../../k8s-server/api.js';
import { startLocalCluster } from '../../k8s-server/cluster.js';
import { runDockerLabels } from '../../setup/test-run.js';

/**
 * A local cluster in a process of its own, for tests of what a server leaves when it is killed:
 * it starts, runs one pod (a sleeping busybox with an emptyDir, so the engine holds a container
 * and a volume of it), prints `READY <instance>` once the pod runs, then waits. SIGTERM stops
 * it cleanly (containers removed); SIGKILL leaves them, as a crashed test run does. It also
 * stops when its parent is gone, so a test run killed midway leaves no live server behind.
 * Run: `node --import tsx test/k8s-server-tests/node/server-process.ts` (under a test run: its
 * Docker resources carry the run's label).
 */
const cluster = await startLocalCluster({ dockerLabels: runDockerLabels() });
const stop = () =>
  void cluster
    .stop({ removeContainers: true })
    .finally(() => rmSync(cluster.stateDir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
process.on('SIGTERM', stop);
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop();
  }
}, 1000).unref();

cluster.store.create('pods', {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'sleeper', namespace: 'default' } as KObject['metadata'],
  spec: {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 0,
    volumes: [{ name: 'scratch', emptyDir: {} }],
    containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
  },
  status: { phase: 'Pending', qosClass: 'BestEffort' },
});
const running = () => cluster.store.get('pods', 'default', 'sleeper')?.status?.containerStatuses?.[0]?.state?.running !== undefined;
await new Promise<void>((resolve) => {
  const unsubscribe = cluster.store.subscribe(() =>
    queueMicrotask(() => {
      if (!running()) return;
      unsubscribe();
      resolve();
    }),
  );
  if (running()) resolve();
});
console.log(`READY ${cluster.instanceId}`);
// The server's sockets and the node's event stream keep the process alive until a signal.
