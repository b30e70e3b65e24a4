import { rmSync } from 'node:fs';
import { LOCAL_REGISTRY, REGISTRY_BUSYBOX } from '../infra/registry.js';
import { startLocalCluster } from './cluster.js';
import { FeatureGateError, profileOptionsFromEnv } from './profile/profile.js';

/**
 * `make cluster` / `npm run cluster`: runs one local cluster until SIGINT/SIGTERM/SIGHUP or
 * until the process that started it is gone, then stops it and removes its containers and,
 * unless `STATE_DIR` named it, its state directory (which holds the CA's key). `STATE_DIR`
 * and `PORT` pick them;
 * `AUTHORIZATION_MODE=RBAC` turns on authorization, `USERS=a,system:serviceaccount:ns:sa`
 * writes a kubeconfig for each of those users; `KUBE_VERSION`, `FEATURE_GATES`,
 * `KUBELET_VERSION` and `KUBELET_FEATURE_GATES` pick the profile.
 */
const mode = process.env.AUTHORIZATION_MODE;
if (mode !== undefined && mode !== 'AlwaysAllow' && mode !== 'RBAC') {
  console.error(`AUTHORIZATION_MODE=${mode} is not supported: use RBAC or AlwaysAllow`);
  process.exit(2);
}
const cluster = await startLocalCluster({
  ...(process.env.STATE_DIR ? { stateDir: process.env.STATE_DIR } : {}),
  ...(process.env.PORT ? { port: Number(process.env.PORT) } : {}),
  ...(mode ? { authorizationMode: mode } : {}),
  ...profileOptionsFromEnv(process.env),
}).catch((error: unknown) => {
  if (!(error instanceof FeatureGateError)) throw error;
  // Worded as kube-apiserver words a bad --feature-gates value.
  console.error(`Error: invalid argument: ${error.message}`);
  process.exit(2);
});
console.log(`Kubeconfig: ${cluster.kubeconfigPath}${mode === 'RBAC' ? ' (kubernetes-admin, in system:masters)' : ''}`);
for (const user of (process.env.USERS ?? '').split(',').map((u) => u.trim()).filter(Boolean)) {
  console.log(`Kubeconfig for ${user}: ${cluster.kubeconfigFor(user)}`);
}
console.log(`Use it with:  export KUBECONFIG=${cluster.kubeconfigPath}; kubectl get pods`);
console.log(`Image registry (make infra): ${LOCAL_REGISTRY.host}, user ${LOCAL_REGISTRY.username}, password ${LOCAL_REGISTRY.password}; image ${REGISTRY_BUSYBOX}`);
console.log(`Faults/metrics: POST ${cluster.url}/debug/faults, GET ${cluster.url}/metrics (see docs/local-cluster.md). Ctrl-C or kill -TERM ${process.pid} stops.`);

const ownStateDir = !process.env.STATE_DIR;
let stopping = false;
const stop = (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${why}: stopping`);
  // The temporary state directory goes also when stopping failed (an engine that did not
  // answer in time): it holds the CA's private key. Retried: a write still landing in it (a
  // container's log) makes the first removal find it not empty.
  void cluster
    .stop({ removeContainers: true })
    .then(
      () => 0,
      (error: unknown) => {
        console.error(error);
        return 1;
      },
    )
    .then((code) => {
      try {
        if (ownStateDir) rmSync(cluster.stateDir, { recursive: true, force: true, maxRetries: 5 });
      } catch (error) {
        console.error(error);
        code = 1;
      }
      process.exit(code);
    });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));

// A parent killed without passing the signal on (make, npm, a shell script killed with
// SIGKILL) would leave this server running, adopted by PID 1: stop when the parent is gone.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop(`parent process ${parent} exited`);
  }
}, 1000).unref();
