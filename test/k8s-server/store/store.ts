import { randomUUID } from 'node:crypto';
import type { KObject, ResourceName, StoreApi, StoreEvent } from '../api.js';
import { resourceByPlural } from '../resources.js';
import { errors } from '../status.js';
import { canonical } from './canonical.js';
import { readSnapshot, writeSnapshot } from './persist.js';
import { parseLabelSelector } from './selectors.js';

/** A store event as the watch layer sees it: with its resourceVersion and the object before the change. */
export interface HistoryEvent extends StoreEvent {
  rv: number;
  /** The object before a MODIFIED change (to tell a selector leave/enter). */
  previous?: KObject;
}

export interface StoreOptions {
  /** Where the snapshot lives; undefined keeps everything in memory. */
  stateDir?: string;
  /** Events kept for watches that resume from a resourceVersion. @default 2000 */
  historySize?: number;
  /** Debounce of snapshot writes, in ms. @default 500 */
  persistDelayMs?: number;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function keyOf(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}/${namespace ?? ''}/${name}`;
}

function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** A name for `generateName`: the prefix (cut to 58) and five random characters, as names.SimpleNameGenerator makes it. */
export function generatedName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return base.slice(0, 58) + suffix;
}

/**
 * The object store: a map of plain JSON objects with a global resourceVersion
 * counter, a bounded event history for watches, and a debounced atomic snapshot.
 */
export class Store implements StoreApi {
  /**
   * Objects by resource, then by key: a list of one resource reads only that resource's
   * objects (a cluster holds thousands of Events beside its pods), as etcd reads one key
   * prefix per resource (apiserver `pkg/storage/etcd3/store.go` `GetList`).
   */
  private readonly objects = new Map<string, Map<string, { resource: string; object: KObject }>>();
  private readonly history: HistoryEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly historyListeners = new Set<(event: HistoryEvent) => void>();
  private rv = 0;
  /** The oldest resourceVersion a watch may resume from. */
  private oldestResumable = 0;
  private persistTimer: NodeJS.Timeout | undefined;
  private readonly historySize: number;

  constructor(private readonly options: StoreOptions = {}) {
    this.historySize = options.historySize ?? 2000;
    const snapshot = options.stateDir ? readSnapshot(options.stateDir) : undefined;
    if (snapshot) {
      this.rv = snapshot.resourceVersion;
      for (const entry of snapshot.objects) {
        const { namespace, name } = entry.object.metadata;
        this.bucket(entry.resource).set(keyOf(entry.resource, namespace, name), entry);
      }
    }
    // History does not survive a reload: anything older than now is too old.
    this.oldestResumable = this.rv;
  }

  /** The current (last handed out) resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The objects of one resource, by key. */
  private bucket(resource: string): Map<string, { resource: string; object: KObject }> {
    let bucket = this.objects.get(resource);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  get(resource: ResourceName, namespace: string | undefined, name: string): KObject | undefined {
    const entry = this.objects.get(resource)?.get(keyOf(resource, namespace, name));
    return entry ? clone(entry.object) : undefined;
  }

  list(resource: ResourceName, namespace?: string, labelSelector?: string, where?: (object: Readonly<KObject>) => boolean): KObject[] {
    const matcher = parseLabelSelector(labelSelector);
    const out: KObject[] = [];
    for (const entry of this.objects.get(resource)?.values() ?? []) {
      if (namespace !== undefined && entry.object.metadata.namespace !== namespace) continue;
      if (!matcher(entry.object.metadata.labels)) continue;
      if (where !== undefined && !where(entry.object)) continue;
      out.push(clone(entry.object));
    }
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
  }

  /** `admit` runs once uid and name are assigned (defaults that embed the uid, like a job's selector). */
  create(resource: ResourceName, input: KObject, admit?: (object: KObject) => void): KObject {
    const object = clone(input);
    const metadata = object.metadata;
    const info = resourceByPlural(resource);
    if (!info?.namespaced) delete metadata.namespace;
    if (!metadata.name && metadata.generateName) {
      // Retry collisions like RetryGenerateName does.
      for (let i = 0; i < 8; i++) {
        const candidate = generatedName(metadata.generateName);
        if (!this.bucket(resource).has(keyOf(resource, metadata.namespace, candidate))) {
          metadata.name = candidate;
          break;
        }
      }
    }
    const key = keyOf(resource, metadata.namespace, metadata.name);
    if (this.bucket(resource).has(key)) throw errors.alreadyExists(resource, metadata.name, info?.group || undefined);
    metadata.uid = randomUUID();
    metadata.creationTimestamp = nowTimestamp();
    if (object.spec !== undefined && resource !== 'namespaces') metadata.generation = 1;
    else delete metadata.generation;
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    admit?.(object);
    metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(key, { resource, object });
    this.emit({ type: 'ADDED', resource, object: clone(object), rv: this.rv });
    return clone(object);
  }

  update(resource: ResourceName, namespace: string | undefined, name: string, mutate: (object: KObject) => void): KObject | undefined {
    const key = keyOf(resource, namespace, name);
    const entry = this.objects.get(resource)?.get(key);
    if (!entry) return undefined;
    const previous = entry.object;
    const next = clone(previous);
    mutate(next);
    // Identity fields are the store's, whatever the mutation did.
    next.metadata.name = previous.metadata.name;
    next.metadata.uid = previous.metadata.uid;
    next.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    if (previous.metadata.namespace !== undefined) next.metadata.namespace = previous.metadata.namespace;
    next.metadata.resourceVersion = previous.metadata.resourceVersion;
    if (previous.metadata.generation !== undefined) next.metadata.generation = previous.metadata.generation;
    if (canonical(next) === canonical(previous)) return clone(previous);
    if (previous.metadata.generation !== undefined && canonical(next.spec) !== canonical(previous.spec)) {
      next.metadata.generation = previous.metadata.generation + 1;
    }
    if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
    const finalizersLeft = (next.metadata.finalizers?.length ?? 0) > 0;
    // Pods on a node are removed by the kubelet, namespaces by the namespace controller once empty.
    const removedElsewhere = (resource === 'pods' && next.spec?.nodeName) || resource === 'namespaces';
    if (next.metadata.deletionTimestamp && !finalizersLeft && !removedElsewhere) {
      // The last finalizer is gone: the deletion completes now.
      this.bucket(resource).set(key, { resource, object: next });
      return this.remove(resource, namespace, name);
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(key, { resource, object: next });
    this.emit({ type: 'MODIFIED', resource, object: clone(next), previous: clone(previous), rv: this.rv });
    return clone(next);
  }

  remove(resource: ResourceName, namespace: string | undefined, name: string): KObject | undefined {
    const key = keyOf(resource, namespace, name);
    const bucket = this.objects.get(resource);
    const entry = bucket?.get(key);
    if (!bucket || !entry) return undefined;
    bucket.delete(key);
    const object = entry.object;
    object.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource, object: clone(object), rv: this.rv });
    return clone(object);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens with resourceVersion and previous object (the watch layer; listeners must not mutate). */
  subscribeHistory(listener: (event: HistoryEvent) => void): () => void {
    this.historyListeners.add(listener);
    return () => this.historyListeners.delete(listener);
  }

  /**
   * The events after `rv` for a resuming watch, or undefined when `rv` is older than
   * the kept history (the caller answers 410 Expired).
   */
  eventsSince(rv: number): HistoryEvent[] | undefined {
    if (rv < this.oldestResumable) return undefined;
    if (rv > this.rv) return [];
    return this.history.filter((e) => e.rv > rv);
  }

  /**
   * Forgets the kept history, as etcd's compaction does (the API server compacts every five
   * minutes: apiserver `pkg/storage/etcd3/compact.go`, `compactor`): a watch resumed from a
   * resourceVersion older than now is answered 410 Expired, "too old resource version"
   * (apiserver `pkg/storage/cacher/watch_cache.go`, `getAllEventsSinceLocked`).
   */
  compact(): void {
    this.history.splice(0);
    this.oldestResumable = this.rv;
  }

  /** The oldest resourceVersion still resumable (for the 410 message). */
  get oldestResourceVersion(): number {
    return this.oldestResumable;
  }

  /** Writes the snapshot now (also called on stop). */
  flush(): void {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    if (!this.options.stateDir) return;
    writeSnapshot(this.options.stateDir, { resourceVersion: this.rv, objects: [...this.objects.values()].flatMap((bucket) => [...bucket.values()]) });
  }

  private emit(event: HistoryEvent): void {
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.oldestResumable = dropped[dropped.length - 1]!.rv;
    }
    this.schedulePersist();
    for (const listener of [...this.historyListeners]) {
      try {
        listener(event);
      } catch {
        // A failing watcher drops itself; the write goes on.
      }
    }
    for (const listener of [...this.listeners]) {
      try {
        listener({ type: event.type, resource: event.resource, object: clone(event.object) });
      } catch {
        // One failing listener must not stop the others or the write.
      }
    }
  }

  private schedulePersist(): void {
    if (!this.options.stateDir || this.persistTimer) return;
    this.persistTimer = setTimeout(() => this.flush(), this.options.persistDelayMs ?? 500);
    this.persistTimer.unref();
  }
}
