import { randomUUID } from 'node:crypto';
import type { KObject, StoreApi, StoreEvent } from '../../k8s-server/api.js';
import { errors } from '../../k8s-server/status.js';

/**
 * A small in-memory StoreApi for node-part tests that do not need HTTP: equality
 * label selectors only, deep copies in and out, synchronous events.
 */
export class MemoryStore implements StoreApi {
  private objects = new Map<string, KObject>();
  private listeners = new Set<(event: StoreEvent) => void>();
  private version = 1;

  private key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  private emit(type: StoreEvent['type'], resource: string, object: KObject): void {
    for (const listener of this.listeners) listener({ type, resource, object: structuredClone(object) });
  }

  get(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const object = this.objects.get(this.key(resource, namespace, name));
    return object && structuredClone(object);
  }

  list(resource: string, namespace?: string, labelSelector?: string, where?: (object: Readonly<KObject>) => boolean): KObject[] {
    const wanted = (labelSelector ?? '').split(',').filter(Boolean).map((part) => part.split('='));
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${resource}/`))
      .map(([, object]) => object)
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => wanted.every(([k, v]) => o.metadata.labels?.[k!] === v))
      .filter((o) => where === undefined || where(o))
      .map((o) => structuredClone(o));
  }

  create(resource: string, input: KObject): KObject {
    const object = structuredClone(input);
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${randomUUID().slice(0, 5)}`;
    const key = this.key(resource, object.metadata.namespace, object.metadata.name);
    if (this.objects.has(key)) throw errors.alreadyExists(resource, object.metadata.name);
    object.metadata.uid = randomUUID();
    object.metadata.resourceVersion = String(++this.version);
    object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.objects.set(key, object);
    this.emit('ADDED', resource, object);
    return structuredClone(object);
  }

  update(resource: string, namespace: string | undefined, name: string, mutate: (object: KObject) => void): KObject | undefined {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (!current) return undefined;
    const next = structuredClone(current);
    mutate(next);
    next.metadata.resourceVersion = String(++this.version);
    if (resource !== 'pods' && next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.objects.delete(key);
      this.emit('DELETED', resource, next);
      return structuredClone(next);
    }
    this.objects.set(key, next);
    this.emit('MODIFIED', resource, next);
    return structuredClone(next);
  }

  remove(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (!current) return undefined;
    this.objects.delete(key);
    current.metadata.resourceVersion = String(++this.version);
    this.emit('DELETED', resource, current);
    return structuredClone(current);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first object version (from now on or the current one) that satisfies `test`. */
  waitFor(resource: string, namespace: string, name: string, test: (o: KObject | undefined) => boolean, timeoutMs = 20_000): Promise<KObject | undefined> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const object = this.get(resource, namespace, name);
        if (!test(object)) return false;
        clearTimeout(timer);
        unsubscribe();
        resolve(object);
        return true;
      };
      const unsubscribe = this.subscribe(() => queueMicrotask(check));
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`timed out waiting for ${resource} ${namespace}/${name}: ${JSON.stringify(this.get(resource, namespace, name)?.status)}`));
      }, timeoutMs);
      check();
    });
  }
}
