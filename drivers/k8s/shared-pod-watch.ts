import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../src/labels.js';
import type { RetryPolicy } from '../../src/retry.js';
import { clusterIdentity } from './kubeconfig.js';
import { toLabelValue } from './naming.js';
import { PodWatcher, type PodEvent } from './pod-watch.js';

/**
 * One pod watch per (cluster, credentials, Kubernetes namespace) for the whole process,
 * shared by every driver there: a process running a hundred drivers (each its own
 * drivetrain namespace) makes one LIST and keeps one WATCH open, not a hundred (and a
 * process whose first pod create was alone makes no LIST: see `PodWatcher.creating`).
 *
 * The shared {@link PodWatcher} watches every drivetrain pod of the Kubernetes namespace
 * (`drivetrain.dev/managed=true`); each driver sees it through a {@link PodWatch}, which
 * hands on only its own namespace's pods. The watcher starts with the first driver that
 * uses it and is reference-counted: it stops when the last driver using it closes. One
 * driver's close or abort only ends its own subscriptions; a watch that fails or expires
 * is resumed (or re-listed) for every driver at once, by the watcher's own loop.
 */

/** What a driver's view of the shared watch is made from. */
export interface PodWatchConfig {
  kc: KubeConfig;
  core: CoreV1Api;
  kubernetesNamespace: string;
  /** The drivetrain namespace whose pods this view hands on. */
  namespace: string;
  /** Longest silence of a watch connection before it is taken for dead, in ms; drivers that differ here do not share. */
  idleTimeoutMs: number;
  retry?: RetryPolicy;
}

interface SharedEntry {
  readonly watcher: PodWatcher;
  users: number;
}

/** The process's shared watchers, by {@link sharingKey}. */
const shared = new Map<string, SharedEntry>();

/**
 * Drivers share a watch when they reach the same API server as the same user, in the same
 * Kubernetes namespace, with the same liveness and retry settings. Credentials are part of
 * the key (hashed) because what a user may list differs; a kubeconfig loaded twice from one
 * file gives the same key.
 */
function sharingKey(config: PodWatchConfig): string {
  return clusterIdentity(config.kc, [config.kubernetesNamespace, config.idleTimeoutMs, config.retry ?? null]);
}


/** How many shared pod watchers this process holds now (one per sharing key in use). */
export function sharedPodWatchers(): number {
  return shared.size;
}

/**
 * A driver's view of its shared pod watch. The same methods as the watcher, limited to the
 * driver's drivetrain namespace; `stop` releases the driver's reference (the watch itself
 * stops with its last user). After `stop` the view hears nothing and caches nothing, and
 * is never started again.
 */
export class PodWatch {
  private readonly key: string;
  private readonly namespaceLabel: string;
  private readonly listeners = new Set<(event: PodEvent) => void>();
  private entry: SharedEntry | undefined;
  private detach: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly config: PodWatchConfig) {
    this.key = sharingKey(config);
    this.namespaceLabel = toLabelValue(config.namespace);
  }

  /** Joins (and starts, if need be) the shared watch if this view has not yet. Never throws. */
  ensureStarted(): void {
    this.join()?.watcher.ensureStarted();
  }

  /**
   * Runs a pod create of this driver through the shared watcher, which a lone create starts
   * from its resourceVersion instead of a LIST (see `PodWatcher.creating`).
   */
  creating(create: () => Promise<V1Pod>): Promise<V1Pod> {
    const entry = this.join();
    return entry === undefined ? create() : entry.watcher.creating(create);
  }

  /** Joins the shared watch (without starting it) if this view has not yet; `undefined` once stopped. */
  private join(): SharedEntry | undefined {
    if (this.stopped) return undefined;
    if (this.entry === undefined) {
      let entry = shared.get(this.key);
      if (entry === undefined) {
        const { kc, core, kubernetesNamespace, idleTimeoutMs, retry } = this.config;
        entry = { watcher: new PodWatcher({ kc, core, kubernetesNamespace, labelSelector: `${LABELS.managed}=true`, idleTimeoutMs, retry }), users: 0 };
        shared.set(this.key, entry);
      }
      entry.users += 1;
      this.entry = entry;
      this.detach = entry.watcher.listen((event) => this.forward(event));
    }
    return this.entry;
  }

  /** The cached pod of this namespace, or `undefined` when the cache has not synced or lacks it (then GET it). */
  cached(name: string): V1Pod | undefined {
    const pod = this.entry?.watcher.cached(name);
    return pod !== undefined && this.owns(pod) ? pod : undefined;
  }

  /** Subscribes to this namespace's pod events (and every re-list); returns the unsubscribe function. */
  subscribe(listener: (event: PodEvent) => void): () => void {
    this.ensureStarted();
    if (!this.stopped) this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Leaves the shared watch for good; the last view to leave stops it. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.listeners.clear();
    this.detach?.();
    const entry = this.entry;
    this.entry = undefined;
    if (entry === undefined) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    // The last user: a driver that joins from now on starts a watcher of its own.
    if (shared.get(this.key) === entry) shared.delete(this.key);
    await entry.watcher.stop();
  }

  private owns(pod: V1Pod): boolean {
    return pod.metadata?.labels?.[LABELS.namespace] === this.namespaceLabel;
  }

  private forward(event: PodEvent): void {
    if (event.type !== 'resync' && !this.owns(event.pod)) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others from hearing the event.
      }
    }
  }
}
