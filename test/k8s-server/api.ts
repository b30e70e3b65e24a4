import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ContainerLogs } from './node/logs/container-logs.js';
import type { PodLogOptions } from './pod-log-options.js';
import type { ClusterProfile } from './profile/profile.js';
import type { NodePartition, RuntimeFaults } from './faults.js';
import type { NodeOptions } from './node/kubelet/scheduling.js';

/**
 * The seams inside the local Kubernetes API server: the API part (HTTP, storage,
 * watch, validation) and the node part (kubelet on Docker, controllers, pod
 * log/exec/attach streams) meet only through these types.
 */

/** Object metadata as the API server stores it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  generateName?: string;
  [key: string]: unknown;
}

/** A stored API object (pod, job, PVC, …): plain JSON. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

/** Resource plurals the server knows: `pods`, `persistentvolumeclaims`, `namespaces`, `events`, `secrets`, `configmaps`, `jobs`, `deployments`. */
export type ResourceName = string;

/** A change to a stored object. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceName;
  object: KObject;
}

/**
 * The object store. Synchronous, so each call is atomic in Node's single thread.
 * Every method returns deep copies; callers never hold live references.
 */
export interface StoreApi {
  get(resource: ResourceName, namespace: string | undefined, name: string): KObject | undefined;
  /**
   * `labelSelector` in Kubernetes syntax (all operators). `where` picks objects before they are
   * copied, so finding a few among thousands copies only those few; it sees the stored object
   * and must not change it.
   */
  list(resource: ResourceName, namespace?: string, labelSelector?: string, where?: (object: Readonly<KObject>) => boolean): KObject[];
  /** Assigns uid, resourceVersion, creationTimestamp (and a name from generateName); throws StatusError 409 AlreadyExists. */
  create(resource: ResourceName, object: KObject): KObject;
  /**
   * Read-modify-write of one object: `mutate` edits the copy in place; the store bumps
   * resourceVersion and emits MODIFIED. Returns undefined when the object is gone.
   * An object that has a deletionTimestamp and no finalizers left after the edit is
   * removed (DELETED) — except pods, which only the kubelet removes (via `remove`).
   */
  update(resource: ResourceName, namespace: string | undefined, name: string, mutate: (object: KObject) => void): KObject | undefined;
  /** Removes the object now and emits DELETED; undefined when it was not there. */
  remove(resource: ResourceName, namespace: string | undefined, name: string): KObject | undefined;
  /** Listens to every change; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

/** What a node-side component gets from the server. */
export interface ClusterContext {
  store: StoreApi;
  docker: Dockerode;
  /** Directory for this instance's state (persisted across restarts). */
  stateDir: string;
  /** Unique per server instance directory; label Docker containers/volumes with it (`drivetrain-local-k8s/instance`). */
  instanceId: string;
  /** Extra labels on every Docker container and volume of this instance (`LocalClusterOptions.dockerLabels`). @default none */
  dockerLabels?: Readonly<Record<string, string>>;
  /** The single node's name, e.g. `local-node`. */
  nodeName: string;
  /** The node's extra labels, taints and allocatable resources. @default none, the machine's resources */
  nodeOptions?: NodeOptions;
  /** The Kubernetes version and feature gates the API server and kubelet reproduce. */
  profile: ClusterProfile;
  /** Whether the node answers the control plane (a lost node's kubelet writes and does nothing). @default always answers */
  partition?: NodePartition;
  /** The containers' CRI logs (kept across restarts of the node part). */
  containerLogs: ContainerLogs;
  /** Injected container runtime failures. @default none */
  runtimeFaults?: RuntimeFaults;
  /** Records a core/v1 Event about `involved` (Scheduled, Pulling, Started, Killing, BackOff, …). */
  recordEvent(involved: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** A running node-side component. */
export interface ClusterComponent {
  /** Stops watching and timers; leaves Docker containers running unless `removeContainers`. */
  stop(options?: { removeContainers?: boolean }): Promise<void>;
}

/** The request a pod subresource handler serves. */
export interface PodRequest {
  namespace: string;
  name: string;
  query: URLSearchParams;
  req: IncomingMessage;
  /** pods/log: the options the API server validated (and forwards). */
  logOptions?: PodLogOptions;
}

/** pods/log, pods/exec and pods/attach, served by the node part. Handlers throw StatusError for API errors. */
export interface PodStreams {
  /** GET pods/{name}/log: answers 200 text/plain (chunked and flushed while following). */
  log(request: PodRequest, res: ServerResponse): Promise<void>;
  /** WebSocket upgrade of pods/{name}/exec (channel.k8s.io protocols). */
  exec(request: PodRequest, socket: Duplex, head: Buffer): void;
  /** WebSocket upgrade of pods/{name}/attach. */
  attach(request: PodRequest, socket: Duplex, head: Buffer): void;
}

/** `test/k8s-server/node/index.ts` exports `startNode(ctx)`. */
export type StartNode = (ctx: ClusterContext) => Promise<ClusterComponent & PodStreams>;
