import { makeInformer, type CoreV1Api, type Informer, type KubeConfig, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import { delay } from '../../src/abort.js';

/** What a listener hears: a pod changed or was deleted, or the cache was re-listed (re-check everything). */
export type PodEvent = { type: 'change'; pod: V1Pod } | { type: 'delete'; pod: V1Pod } | { type: 'resync' };

/**
 * The driver's single pod informer (one LIST+WATCH for the whole drivetrain namespace),
 * started on first use. client-node's informer resumes a dropped watch from the last
 * resourceVersion and re-lists on 410; on any other error it stops, so it is restarted
 * here with back-off (0.5 s doubling to 30 s) until the watcher is stopped.
 */
export class PodWatcher {
  private informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  private readonly listeners = new Set<(event: PodEvent) => void>();
  private synced = false;
  private stopped = false;
  private failures = 0;
  private restarting = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly kubernetesNamespace: string,
    private readonly labelSelector: string,
  ) {}

  /** Starts the informer if it is not running yet. Never throws: errors lead to restarts. */
  ensureStarted(): void {
    if (this.informer !== undefined || this.stopped) return;
    const namespace = this.kubernetesNamespace;
    const informer = makeInformer<V1Pod>(
      this.kc,
      `/api/v1/namespaces/${namespace}/pods`,
      async () => {
        const list = await this.core.listNamespacedPod({ namespace, labelSelector: this.labelSelector });
        this.failures = 0;
        // After the list is applied to the cache (same tick continuation), ask listeners to re-check.
        queueMicrotask(() => {
          this.synced = true;
          this.emit({ type: 'resync' });
        });
        return list;
      },
      this.labelSelector,
    );
    informer.on('add', (pod) => this.emit({ type: 'change', pod }));
    informer.on('update', (pod) => this.emit({ type: 'change', pod }));
    informer.on('delete', (pod) => this.emit({ type: 'delete', pod }));
    informer.on('error', () => void this.restart(informer));
    this.informer = informer;
    informer.start().catch(() => void this.restart(informer));
  }

  /** The cached pod, or `undefined` when the cache has not synced or lacks it (then GET it). */
  cached(name: string): V1Pod | undefined {
    if (!this.synced) return undefined;
    return this.informer?.get(name, this.kubernetesNamespace);
  }

  /** Cached pods, when the cache has synced. */
  cachedPods(): readonly V1Pod[] | undefined {
    return this.synced ? this.informer?.list(this.kubernetesNamespace) : undefined;
  }

  /** Subscribes to pod events; returns the unsubscribe function. */
  subscribe(listener: (event: PodEvent) => void): () => void {
    this.ensureStarted();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching for good. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    const informer = this.informer;
    this.informer = undefined;
    await informer?.stop().catch(() => {});
  }

  private async restart(informer: Informer<V1Pod>): Promise<void> {
    // Several 'error' events of one failure must not start several watches.
    if (this.stopped || this.informer !== informer || this.restarting) return;
    this.restarting = true;
    try {
      await this.restartAfterBackOff(informer);
    } finally {
      this.restarting = false;
    }
  }

  private async restartAfterBackOff(informer: Informer<V1Pod>): Promise<void> {
    // The cache stays usable: the informer resumes from its resourceVersion (or re-lists on 410).
    await informer.stop().catch(() => {});
    this.failures += 1;
    await delay(Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6)));
    if (this.stopped || this.informer !== informer) return;
    informer.start().then(
      () => this.emit({ type: 'resync' }),
      () => void this.restart(informer),
    );
  }

  private emit(event: PodEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others from hearing the event.
      }
    }
  }
}
