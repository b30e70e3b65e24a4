import type { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { DriverLifecycle } from '../../src/kit/lifecycle.js';
import { since } from '../../src/kit/events.js';
import { callApi, retryReason, statusCodeOf } from './api-errors.js';
import type { ResolvedK8sOptions } from './options.js';
import { PodWatch } from './shared-pod-watch.js';
import { ExecProtocol } from './exec-protocol.js';
import { MadeKinds } from './made-kinds.js';
import { clientNode } from './sdk.js';
import { sharingConnections } from './shared-connections.js';

/** What every part of the driver shares: clients (made once, at driver creation), options, the informer. */
export interface K8sContext {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly apps: AppsV1Api;
  readonly options: ResolvedK8sOptions;
  /** The Kubernetes namespace everything is made in. */
  readonly ns: string;
  /** This driver's view of the process's shared pod watch on `ns`. */
  readonly watcher: PodWatch;
  /** The exec/attach subprotocol the API server negotiates (learnt once). */
  readonly execProtocol: ExecProtocol;
  /** The driver's lifecycle: open or closed, its lifetime signal, its events. */
  readonly life: DriverLifecycle;
  /** The kinds of object this driver made, for `close` to tell what it must remove. */
  readonly made: MadeKinds;
  /** One API request with retries and error normalisation (see `callApi`). */
  call<T>(what: string, request: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** Creates the clients and the (not yet started) informer. */
export function createContext(kc: KubeConfig, options: ResolvedK8sOptions, life: DriverLifecycle): K8sContext {
  const { AppsV1Api, BatchV1Api, CoreV1Api } = clientNode();
  // Every API client of the driver on one connection pool (client-node opens one per request).
  const clients = sharingConnections(kc);
  const core = clients.makeApiClient(CoreV1Api);
  const ns = options.kubernetesNamespace;
  return {
    kc,
    core,
    batch: clients.makeApiClient(BatchV1Api),
    apps: clients.makeApiClient(AppsV1Api),
    options,
    ns,
    watcher: new PodWatch({ kc, core, kubernetesNamespace: ns, namespace: options.namespace, idleTimeoutMs: options.livenessIntervalMs, retry: options.retry }),
    execProtocol: new ExecProtocol(kc),
    life,
    made: new MadeKinds(),
    call: <T>(what: string, request: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
      const { events } = life;
      // Each attempt is timed on `drivetrain:engine:request`; each retry published with its reason.
      const timed = (): Promise<T> => {
        if (!events.active('engineRequest')) return request();
        const started = performance.now();
        return request().then(
          (value) => {
            events.emit('engineRequest', { operation: what, durationMs: since(started) });
            return value;
          },
          (error: unknown) => {
            const status = statusCodeOf(error);
            events.emit('engineRequest', { operation: what, durationMs: since(started), ...(status === undefined ? {} : { statusCode: status }), error: retryReason(error) });
            throw error;
          },
        );
      };
      const onRetry = (error: unknown, attempt: number, retriesLeft: number, delayMs: number): void =>
        events.emit('engineRetry', { operation: what, attempt, reason: retryReason(error), retriesLeft, delayMs });
      return callApi(what, timed, { signal, policy: options.retry, onRetry });
    },
  };
}
