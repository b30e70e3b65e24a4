import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { delay } from '../../src/abort.js';
import type { RetryPolicy } from '../../src/retry.js';
import { callApi, statusCodeOf } from './api-errors.js';
import { kubeGet } from './http-stream.js';

/** What a listener hears: a pod changed or was deleted, or the cache was re-listed (re-check everything). */
export type PodEvent = { type: 'change'; pod: V1Pod } | { type: 'delete'; pod: V1Pod } | { type: 'resync' };

/** How one watch connection ended. */
type WatchEnd =
  /** The server closed it (its `timeoutSeconds`) or the connection dropped: resume from the last resourceVersion. */
  | 'closed'
  /** 410 Gone, or an ERROR event: the resourceVersion is no longer served; re-list. */
  | 'expired'
  /** Nothing arrived (no event, no bookmark) for the idle timeout: a half-open connection; re-list. */
  | 'silent';

/** What the watcher needs. */
export interface PodWatcherConfig {
  kc: KubeConfig;
  core: CoreV1Api;
  kubernetesNamespace: string;
  labelSelector: string;
  /** Longest silence of a watch connection before it is taken for dead, in ms. */
  idleTimeoutMs: number;
  retry?: RetryPolicy;
}

/** The shortest server-side watch timeout asked for, in seconds; each watch asks for 1–2 times it (client-go's reflector does the same). */
const MIN_WATCH_TIMEOUT_SECONDS = 300;

/**
 * A pod informer: one LIST, then one WATCH at a time, of the pods `labelSelector` picks in
 * one Kubernetes namespace, started on first use and shared by every wait (and, through
 * `PodWatch` in shared-pod-watch.ts, by every driver of the process on that namespace).
 *
 * Started by a lone pod create ({@link PodWatcher.creating}), it skips the LIST and watches
 * from the create's resourceVersion: a watch from a resourceVersion delivers every change
 * after it, so the created pod's every later state arrives, and so does every pod created
 * after it. The cache then holds only pods the watch has told of, each current; any other
 * pod is read with a GET, as before a LIST. "Lone" means no other create went through this
 * watcher before that create answered, so no pod this process created (and holds an answer
 * of) can predate the resourceVersion. Any failure of that first watch (410 Gone or an
 * ERROR event when the resourceVersion is no longer served, a 504 when the API server's
 * watch cache could not catch up with it: apiserver `pkg/storage/cacher/cacher.go`
 * `Cacher.Watch`, `watch_cache.go` `waitUntilFreshAndBlock`) falls back to LIST + WATCH.
 *
 * Liveness: every watch asks for bookmarks and a server-side `timeoutSeconds`, and is
 * dropped when nothing at all (event or bookmark) arrives for `idleTimeoutMs` — a
 * half-open connection delivers nothing and never ends, and real API servers send a
 * bookmark about every minute (apiserver `cacher.go`, `defaultBookmarkFrequency`). A
 * watch that ends is resumed from the last resourceVersion; after 410 Gone or a silent
 * connection the pods are re-listed. Failures back off from 0.5 s doubling to 30 s.
 */
export class PodWatcher {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Set<(event: PodEvent) => void>();
  private readonly lifetime = new AbortController();
  private running: Promise<void> | undefined;
  private synced = false;
  private failures = 0;
  /** Pod creates begun through this watcher, and those not answered yet. */
  private readonly creates = { begun: 0, pending: 0 };
  /** The resourceVersion the first watch starts from instead of a LIST (a lone create's). */
  private startFrom: string | undefined;

  constructor(private readonly config: PodWatcherConfig) {}

  /** Starts watching if it has not started yet. Never throws: errors lead to retries. */
  ensureStarted(): void {
    if (this.running !== undefined || this.lifetime.signal.aborted) return;
    this.running = this.run().catch(() => {});
  }

  /**
   * Runs a pod create through the watcher. The first create, answered while no other was
   * made, starts the watch from its answer's resourceVersion, with no LIST.
   */
  async creating(create: () => Promise<V1Pod>): Promise<V1Pod> {
    this.creates.begun += 1;
    this.creates.pending += 1;
    try {
      const pod = await create();
      const rv = pod.metadata?.resourceVersion;
      if (this.running === undefined && this.creates.begun === 1 && this.creates.pending === 1 && rv !== undefined && rv !== '') {
        this.startFrom = rv;
        this.ensureStarted();
      }
      return pod;
    } finally {
      this.creates.pending -= 1;
    }
  }

  /** The cached pod, or `undefined` when the cache has not synced or lacks it (then GET it). */
  cached(name: string): V1Pod | undefined {
    return this.synced ? this.pods.get(name) : undefined;
  }

  /** Listens to pod events (without starting the watch: see `ensureStarted`); returns the function that stops listening. */
  listen(listener: (event: PodEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching for good. */
  async stop(): Promise<void> {
    this.listeners.clear();
    this.lifetime.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.lifetime.signal;
    // From a lone create's resourceVersion: nothing to list, every pod the cache will hold
    // comes from the watch (see the class comment).
    let resourceVersion = this.startFrom;
    let listed = resourceVersion === undefined;
    if (!listed) this.synced = true;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          resourceVersion = await this.relist();
          listed = true;
        }
        const opened = Date.now();
        const { end, received } = await this.watchFrom(resourceVersion, (rv) => (resourceVersion = rv));
        if (end !== 'closed') resourceVersion = undefined;
        // A watch the server ends at once, again and again, must not become a busy loop.
        if (!received && Date.now() - opened < 1000) throw new Error('the watch ended at once');
      } catch (error) {
        if (signal.aborted) return;
        // A watch from a create's resourceVersion that fails is not tried again: LIST + WATCH.
        if (statusCodeOf(error) === 410 || !listed) resourceVersion = undefined;
        this.failures += 1;
        await delay(Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6)), signal).catch(() => {});
      }
    }
  }

  /** LISTs the pods, replaces the cache (telling listeners what changed), and returns the list's resourceVersion. */
  private async relist(): Promise<string> {
    const { core, kubernetesNamespace: namespace, labelSelector } = this.config;
    const list = await callApi('list pods', () => core.listNamespacedPod({ namespace, labelSelector }), { signal: this.lifetime.signal, policy: this.config.retry });
    const fresh = new Map(list.items.map((pod) => [pod.metadata?.name as string, pod]));
    for (const [name, pod] of this.pods) {
      if (fresh.has(name)) continue;
      this.pods.delete(name);
      this.emit({ type: 'delete', pod });
    }
    for (const [name, pod] of fresh) {
      const before = this.pods.get(name);
      this.pods.set(name, pod);
      if (before?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.emit({ type: 'change', pod });
    }
    this.synced = true;
    this.emit({ type: 'resync' });
    return list.metadata?.resourceVersion ?? '';
  }

  /** One watch connection from `resourceVersion`, applied to the cache until it ends. */
  private async watchFrom(resourceVersion: string, advance: (rv: string) => void): Promise<{ end: WatchEnd; received: boolean }> {
    const { kc, kubernetesNamespace, labelSelector, idleTimeoutMs } = this.config;
    const query = {
      watch: 'true',
      labelSelector,
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + Math.random()))),
    };
    const response = await kubeGet(kc, `/api/v1/namespaces/${encodeURIComponent(kubernetesNamespace)}/pods`, query, { signal: this.lifetime.signal, answerTimeoutMs: idleTimeoutMs });
    return new Promise((resolve) => {
      const decoder = new StringDecoder('utf8');
      let partial = '';
      let received = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd): void => {
        clearTimeout(idle);
        response.removeAllListeners('data');
        response.destroy();
        resolve({ end, received });
      };
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => finish('silent'), idleTimeoutMs);
        idle.unref();
      };
      armIdle();
      response.on('data', (chunk: Buffer) => {
        received = true;
        armIdle();
        const lines = (partial + decoder.write(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          const end = this.apply(line, advance);
          if (end !== undefined) return finish(end);
        }
        this.failures = 0;
      });
      listenForEnd(response, () => finish('closed'));
    });
  }

  /** Applies one watch event line; returns how the watch must end, if it must. */
  private apply(line: string, advance: (rv: string) => void): WatchEnd | undefined {
    let event: { type?: string; object?: V1Pod & { code?: number } };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return 'expired'; // a garbled stream: start over from a fresh list
    }
    const pod = event.object;
    const name = pod?.metadata?.name;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        if (name === undefined) return undefined;
        this.pods.set(name, pod as V1Pod);
        this.emit({ type: 'change', pod: pod as V1Pod });
        break;
      case 'DELETED':
        if (name === undefined) return undefined;
        this.pods.delete(name);
        this.emit({ type: 'delete', pod: pod as V1Pod });
        break;
      case 'BOOKMARK':
        break;
      default:
        // ERROR: 410 Expired ("too old resource version") or another Status: re-list.
        return 'expired';
    }
    const rv = pod?.metadata?.resourceVersion;
    if (rv !== undefined) advance(rv);
    return undefined;
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

/** Calls `onEnd` once when the response ends, fails or its connection closes. */
function listenForEnd(response: IncomingMessage, onEnd: () => void): void {
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  response.once('end', end);
  response.once('error', end);
  response.once('close', end);
}
