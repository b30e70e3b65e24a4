import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { NodeOptions } from './node/kubelet/scheduling.js';
import type { ClusterComponent, ClusterContext, PodStreams, StartNode } from './api.js';
import { Auth, type AuthorizationMode } from './auth/auth.js';
import { startQuotaController } from './admission/quota.js';
import { ensureBootstrapPolicy } from './auth/bootstrap-policy.js';
import { serviceAccountGroups, splitServiceAccountUsername } from './auth/user.js';
import { eventRecorder } from './events.js';
import { Faults } from './faults.js';
import type { HttpContext, OpenWatch } from './http/context.js';
import { createHandlers } from './http/server.js';
import { Metrics } from './metrics.js';
import { ContainerLogs } from './node/logs/container-logs.js';
import { ensureBuiltInNamespaces, startNamespaceController } from './namespaces.js';
import { resolveProfile, type ClusterProfile, type ProfileOptions } from './profile/profile.js';
import { errors } from './status.js';
import { Store } from './store/store.js';
import { ensureTls, writeKubeconfig } from './tls.js';

/** Options of {@link startLocalCluster}; the profile options pick the Kubernetes version and feature gates reproduced. */
export interface LocalClusterOptions extends ProfileOptions {
  /** Directory for state (snapshot, TLS, kubeconfig). @default a fresh temp dir */
  stateDir?: string;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /** Docker client the node part runs pods with. @default the local socket */
  docker?: Dockerode;
  /** Interval of watch BOOKMARK events, in ms. @default 1000 */
  bookmarkIntervalMs?: number;
  /** The node part to start; default the real one in `node/index.ts`. Tests of the API alone pass a no-op. */
  startNode?: StartNode;
  /**
   * kube-apiserver's `--authorization-mode`. `RBAC`: bearer tokens are checked (the
   * kubeconfig's is the administrator, in system:masters), every request is authorized
   * by Roles and bindings, the default cluster roles exist. @default 'AlwaysAllow'
   */
  authorizationMode?: AuthorizationMode;
  /**
   * WebSocket upgrades of pods/exec and pods/attach also need `create`, as from Kubernetes
   * 1.35 (gate AuthorizePodWebsocketUpgradeCreatePermission). @default false (only `get`, as up to 1.34)
   */
  authorizeUpgradeCreate?: boolean;
  /** The node's extra labels, taints and allocatable resources, as the scheduler and kubelet see them. @default no taints, the machine's resources */
  node?: NodeOptions;
  /**
   * Extra labels on every Docker container and volume the node makes (a test run's tag, so that
   * the run can find what its servers left). The server's own `drivetrain-local-k8s/*` labels
   * always win. @default none
   */
  dockerLabels?: Readonly<Record<string, string>>;
}

/** A running local cluster. */
export interface LocalCluster {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** This server's ID, the `drivetrain-local-k8s/instance` label of its Docker containers and volumes. */
  readonly instanceId: string;
  /** A kubeconfig (CA inline, token user, namespace default) for kubectl and client-node. */
  readonly kubeconfigPath: string;
  /** The versions and feature gates reproduced. */
  readonly profile: ClusterProfile;
  readonly stateDir: string;
  /** The current store (replaced by `restart()`). */
  readonly store: Store;
  readonly metrics: Metrics;
  readonly faults: Faults;
  /** Stops server and node, reloads state from disk, starts again on the same port; open watches are cut. */
  restart(): Promise<void>;
  /**
   * A kubeconfig for another user, with a fresh bearer token (added to the token file).
   * A service account name (`system:serviceaccount:<ns>:<name>`) gets its groups.
   */
  kubeconfigFor(user: string | { name: string; groups?: string[] }): string;
  /** Stops everything; `removeContainers` also removes the node's Docker containers. Idempotent. */
  stop(options?: { removeContainers?: boolean }): Promise<void>;
}

/** A node that runs nothing (API-only tests). */
export const noopNode: StartNode = async () => ({
  async stop() {},
  async log() {
    throw errors.badRequest('this local cluster runs without a node');
  },
  exec(_request, socket) {
    socket.destroy();
  },
  attach(_request, socket) {
    socket.destroy();
  },
});

async function realNode(): Promise<StartNode> {
  const module = (await import('./node/index.js')) as { startNode: StartNode };
  return module.startNode;
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const profile = resolveProfile(options);
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'drivetrain-local-k8s-'));
  mkdirSync(stateDir, { recursive: true });
  const tls = ensureTls(stateDir);
  const docker = options.docker ?? new Dockerode();
  const startNode = options.startNode ?? (await realNode());
  const instanceId = `${randomBytes(6).toString('hex')}`;
  const metrics = new Metrics();
  const watches = new Set<OpenWatch>();
  const faults = new Faults({
    cut: () => {
      const all = [...watches];
      for (const watch of all) watch.cut();
      return all.length;
    },
    silence: () => {
      const all = [...watches];
      for (const watch of all) watch.silence();
      return all.length;
    },
    expire: () => {
      store.compact();
      const all = [...watches];
      for (const watch of all) watch.cut();
      return all.length;
    },
  });

  let store = new Store({ stateDir });
  const auth = new Auth({ mode: options.authorizationMode ?? 'AlwaysAllow', stateDir, store: () => store, upgradeRequiresCreate: () => options.authorizeUpgradeCreate ?? false });
  let node: (ClusterComponent & PodStreams) | undefined;
  let stopNamespaces: () => void = () => {};
  let server: Server | undefined;
  let port = options.port ?? 0;
  const sockets = new Set<Socket>();
  let stopped = false;

  const httpContext: HttpContext = {
    get store() {
      return store;
    },
    node: () => {
      if (!node) throw errors.internal('the node is not running');
      return node;
    },
    serverAddress: () => `127.0.0.1:${port}`,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    watches,
    profile,
  };
  const clusterContext: ClusterContext = {
    get store() {
      return store;
    },
    docker,
    stateDir,
    instanceId,
    ...(options.dockerLabels === undefined ? {} : { dockerLabels: { ...options.dockerLabels } }),
    nodeName: 'local-node',
    ...(options.node === undefined ? {} : { nodeOptions: options.node }),
    profile,
    partition: faults,
    containerLogs: new ContainerLogs(join(stateDir, 'pod-logs')),
    runtimeFaults: faults,
    recordEvent: eventRecorder(() => store),
  };

  let restarting: Promise<void> | undefined;
  const handlers = createHandlers({ ctx: httpContext, metrics, faults, auth, restart: () => void cluster.restart() });

  const listen = async () => {
    ensureBuiltInNamespaces(store);
    if (auth.mode === 'RBAC') ensureBootstrapPolicy(store);
    const stopNamespaceController = startNamespaceController(store);
    const stopQuotaController = startQuotaController(store);
    stopNamespaces = () => {
      stopNamespaceController();
      stopQuotaController();
    };
    node = await startNode(clusterContext);
    const s = createServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['http/1.1'] }, handlers.request);
    s.on('upgrade', handlers.upgrade);
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    s.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
    const address = s.address();
    if (address && typeof address === 'object') port = address.port;
  };

  const shutdown = async (removeContainers: boolean) => {
    faults.cutWatches();
    const s = server;
    server = undefined;
    if (s) {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    }
    stopNamespaces();
    const n = node;
    node = undefined;
    await n?.stop({ removeContainers });
    if (removeContainers) clusterContext.containerLogs.close();
    store.flush();
  };

  await listen();
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = writeKubeconfig(stateDir, url, tls.caCert);
  console.log(`Started local Kubernetes API server ${instanceId} at ${url}: ${profile.describe()}`);

  const cluster: LocalCluster = {
    url,
    instanceId,
    kubeconfigPath,
    profile,
    stateDir,
    get store() {
      return store;
    },
    metrics,
    faults,
    kubeconfigFor(user) {
      const { name, groups } = typeof user === 'string' ? { name: user, groups: undefined } : user;
      const serviceAccount = splitServiceAccountUsername(name);
      const token = auth.tokens.issue({ name, uid: name, groups: groups ?? (serviceAccount ? serviceAccountGroups(serviceAccount.namespace) : []) });
      const fileName = `kubeconfig-${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
      return writeKubeconfig(stateDir, url, tls.caCert, { token, fileName });
    },
    restart() {
      if (stopped) return Promise.reject(new Error('the local cluster is stopped'));
      restarting ??= (async () => {
        try {
          await shutdown(false);
          store = new Store({ stateDir });
          await listen();
        } finally {
          restarting = undefined;
        }
      })();
      return restarting;
    },
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await restarting?.catch(() => {});
      await shutdown(stopOptions.removeContainers ?? false);
      console.log(`Stopped local Kubernetes API server ${instanceId}`);
    },
  };
  return cluster;
}
