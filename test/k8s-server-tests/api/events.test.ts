import { describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { eventRecorder } from '../../k8s-server/events.js';
import { Store } from '../../k8s-server/store/store.js';

/** The server's store, counting the lists of each resource it serves. */
class CountingStore extends Store {
  readonly lists = new Map<string, number>();

  override list(...args: Parameters<Store['list']>): KObject[] {
    this.lists.set(args[0], (this.lists.get(args[0]) ?? 0) + 1);
    return super.list(...args);
  }
}

function setup(): { store: CountingStore; pod: KObject; record: ReturnType<typeof eventRecorder> } {
  const store = new CountingStore();
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ev' } as KObject['metadata'] });
  const pod = store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ev' } as KObject['metadata'], spec: { containers: [] } });
  return { store, pod, record: eventRecorder(() => store) };
}

const counts = (store: Store) => Object.fromEntries(store.list('events', 'ev').map((e: any) => [`${e.type}/${e.reason}`, e.count]));

describe('the event recorder', () => {
  it('counts repeats of an event on one Event without reading the namespace’s Events', () => {
    const { store, pod, record } = setup();
    // Events of other objects: a search of the namespace would read every one of them.
    for (let i = 0; i < 50; i += 1) record({ ...pod, metadata: { ...pod.metadata, name: `o${i}`, uid: `uid-${i}` } }, 'Normal', 'Started', 'Started container main');
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    record(pod, 'Normal', 'BackOff', 'Back-off restarting failed container');
    record(pod, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    expect(store.lists.get('events') ?? 0).toBe(0);
    const mine = store.list('events', 'ev').filter((e: any) => e.involvedObject.uid === pod.metadata.uid);
    expect(Object.fromEntries(mine.map((e: any) => [`${e.type}/${e.reason}`, e.count]))).toEqual({ 'Warning/BackOff': 2, 'Normal/BackOff': 1, 'Normal/Pulled': 1 });
  });

  it('records an event anew once its Event is gone (deleted, or expired)', () => {
    const { store, pod, record } = setup();
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    const [first] = store.list('events', 'ev');
    store.remove('events', 'ev', first!.metadata.name);
    record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    const [second] = store.list('events', 'ev');
    expect(second!.metadata.name).not.toBe(first!.metadata.name);
    expect(counts(store)).toEqual({ 'Warning/BackOff': 1 });
  });
});

describe('store lists', () => {
  it('copy out only the objects `where` picks, with the namespace and selector applied', () => {
    const { store } = setup();
    for (const [name, phase] of [['a', 'Running'], ['b', 'Succeeded'], ['c', 'Running']] as const) {
      store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ev', labels: { app: 'x' } } as unknown as KObject['metadata'], spec: {}, status: { phase } });
    }
    const running = store.list('pods', 'ev', 'app=x', (p) => p.status?.phase === 'Running');
    expect(running.map((p) => p.metadata.name)).toEqual(['a', 'c']);
    running[0]!.status.phase = 'Failed';
    expect(store.get('pods', 'ev', 'a')!.status.phase).toBe('Running');
    expect(store.list('namespaces').map((n) => n.metadata.name)).toEqual(['ev']);
  });
});
