import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { START_WAITING_CHANNEL, type StartWaitingEvent } from '../../src/diagnostics.js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { runDockerLabels, testNamespace } from '../setup/test-run.js';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { taskObjectName } from '../../drivers/k8s/naming.js';
import { sharedPodWatchers } from '../../drivers/k8s/shared-pod-watch.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';

// A cluster of its own: faults and restarts here must not disturb other test files.
let cluster: LocalCluster;
const drivers: K8sDriver[] = [];
const TIMEOUT = 90_000;

beforeAll(async () => {
  cluster = await startLocalCluster({ ...DRIVER_CLUSTER, dockerLabels: runDockerLabels() });
});
afterEach(async () => {
  cluster.faults.clear();
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});
afterAll(async () => {
  await cluster?.stop({ removeContainers: true });
  if (cluster !== undefined) rmSync(cluster.stateDir, { recursive: true, force: true });
});

function newDriver(options: Partial<K8sDriverOptions> = {}): K8sDriver {
  const driver = createK8sDriver({ kubeconfig: cluster.kubeconfigPath, namespace: testNamespace('k8r'), ...options }) as K8sDriver;
  drivers.push(driver);
  return driver;
}

/**
 * Matches a request the first time its method and path are seen: with `rate: 1`, every kind of
 * request fails once and succeeds when retried. (Random faults at a rate of one half made a
 * call fail for good now and then: six faults in a row exhaust the retries.)
 */
function firstTimeOnly(methods: readonly string[]): (method: string, path: string) => boolean {
  const seen = new Set<string>();
  return (method, path) => {
    const key = `${method} ${path}`;
    if (!methods.includes(method) || seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

describe('k8s driver under faults', () => {
  it('retries 500s and 429s on creates and reads', async () => {
    const driver = newDriver();
    cluster.faults.set({ rate: 1, kind: '500', match: firstTimeOnly(['POST', 'GET']) });
    const container = await driver.runContainer({ id: 'flaky', image: 'busybox', command: ['sh', '-c', 'echo ok'] });
    expect(cluster.faults.injected).toBeGreaterThanOrEqual(2);
    cluster.faults.set({ rate: 1, kind: '429', retryAfterSeconds: 0, match: firstTimeOnly(['GET']) });
    expect(await container.wait()).toMatchObject({ done: true, exitCode: 0 });
    cluster.faults.clear();
    expect((await readLogs(container)).stdout).toBe('ok\n');
  }, TIMEOUT);

  it('watches one informer for many tasks, and wait() survives cut watches', async () => {
    const driver = newDriver();
    const before = cluster.metrics.count('watch', 'pods');
    const containers = await Promise.all([1, 2, 3, 4, 5].map((i) => driver.runContainer({ id: `w${i}`, image: 'busybox', command: ['sleep', '1'] })));
    const waits = containers.map((c) => c.wait());
    cluster.faults.cutWatches();
    const statuses = await Promise.all(waits);
    expect(statuses.every((s) => s.done && s.exitCode === 0)).toBe(true);
    // One informer: the initial watch plus its resumptions after the cut, never one per task.
    expect(cluster.metrics.count('watch', 'pods') - before).toBeLessThanOrEqual(3);
  }, TIMEOUT);

  it('reports an exec whose stream drops as exit code null, never 0', async () => {
    const driver = newDriver();
    const sandbox = await driver.startSandbox({ id: 'drop-exec', image: 'busybox' });
    const running = sandbox.exec(['sleep', '20']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.restart();
    expect(await running).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
  }, TIMEOUT);

  it('follows logs across an API server restart without losing or repeating lines', async () => {
    const driver = newDriver();
    const container = await driver.runContainer({ id: 'restart-follow', image: 'busybox', command: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); sleep 0.1; done'] });
    const stdout = new CollectingWritable();
    const following = container.logs({ stdout, follow: true });
    // Restart once some output has been delivered.
    const deadline = Date.now() + 20_000;
    while (!stdout.text().includes('line 5') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await cluster.restart();
    await following;
    const expected = Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join('');
    expect(stdout.text()).toBe(expected);
    // The informer lost its watch in the restart and came back: wait() still hears the end.
    expect(await container.wait({ signal: AbortSignal.timeout(30_000) })).toMatchObject({ done: true, exitCode: 0 });
    const after = await driver.runContainer({ id: 'after-restart', image: 'busybox', command: ['true'] });
    expect(await after.wait({ signal: AbortSignal.timeout(30_000) })).toMatchObject({ done: true, exitCode: 0 });
  }, TIMEOUT);

  it('watches with bookmarks and a server timeout, and re-lists when the watch goes silent (half-open)', async () => {
    const driver = newDriver({ livenessIntervalMs: 1500 });
    // The task ends when the test writes its input: after the watch has gone silent.
    const input = new PassThrough();
    const container = await driver.runContainer({ id: 'silent-watch', image: 'busybox', command: ['sh', '-c', 'cat > /dev/null; exit 5'], stdin: input });
    const watches = cluster.metrics.recent('watch', 'pods').map((r) => new URL(r.requestURI, 'https://x').searchParams);
    expect(watches.length).toBeGreaterThan(0);
    for (const query of watches) {
      expect(Number(query.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);
      expect(query.get('allowWatchBookmarks')).toBe('true');
    }
    // The watch stays open and delivers nothing: only a re-list can tell wait() the task ended.
    cluster.faults.silenceWatches();
    const listsBefore = cluster.metrics.count('list', 'pods');
    const waited = container.wait({ signal: AbortSignal.timeout(30_000) });
    input.end('go\n');
    expect(await waited).toMatchObject({ done: true, exitCode: 5 });
    // wait() may also have ended on its own re-read of the pod; the informer re-lists in any case.
    const deadline = Date.now() + 20_000;
    while (cluster.metrics.count('list', 'pods') === listsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cluster.metrics.count('list', 'pods')).toBeGreaterThan(listsBefore);
  }, TIMEOUT);

  it('wait() and the start wait re-read their pod when neither watch nor list answer', async () => {
    // An init container keeps each pod Pending for a while: the start wait cannot be decided by its first read.
    const gate = { spec: { initContainers: [{ name: 'gate', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '1'] }] } };
    const driver = newDriver({ livenessIntervalMs: 1000, podTemplate: gate as K8sDriverOptions['podTemplate'] });
    await driver.runContainer({ id: 'warm-up', image: 'busybox', command: ['true'] });
    // LIST and WATCH of the pods fail, and the open watch is half-open: a GET of one pod still works.
    const collection = `/api/v1/namespaces/${driver.kubernetesNamespace}/pods`;
    cluster.faults.set({ rate: 1, kind: '403', match: (method, path) => method === 'GET' && path === collection });
    cluster.faults.silenceWatches();
    const input = new PassThrough();
    const container = await driver.runContainer({ id: 'no-watch', image: 'busybox', command: ['sh', '-c', 'cat > /dev/null; exit 6'], stdin: input }, { signal: AbortSignal.timeout(30_000) });
    const waited = container.wait({ signal: AbortSignal.timeout(30_000) });
    input.end('go\n');
    expect(await waited).toMatchObject({ done: true, exitCode: 6 });
    cluster.faults.clear();
  }, TIMEOUT);

  it('ends wait() with NodeLost when a pod stays terminating on a node that no longer answers, and close() removes it', async () => {
    const driver = newDriver({ nodeLostTimeoutMs: 2000 });
    const container = await driver.runContainer({ id: 'on-lost-node', image: 'busybox', command: ['sleep', '300'] });
    const core = kubeconfigClient();
    cluster.faults.loseNode();
    try {
      // As the taint eviction controller would after the node went unreachable: a graceful delete.
      await core.deleteNamespacedPod({ name: taskObjectName(driver.namespace, 'on-lost-node'), namespace: driver.kubernetesNamespace, gracePeriodSeconds: 1 });
      const status = await container.wait({ signal: AbortSignal.timeout(30_000) });
      expect(status).toMatchObject({ done: true, exitCode: null, reason: 'NodeLost' });
      expect(await container.status()).toMatchObject({ reason: 'NodeLost' });
      await driver.close({ signal: AbortSignal.timeout(30_000) });
      const left = await core.listNamespacedPod({ namespace: driver.kubernetesNamespace, labelSelector: `drivetrain.dev/namespace=${driver.namespace}` });
      expect(left.items).toEqual([]);
    } finally {
      cluster.faults.recoverNode();
    }
  }, TIMEOUT);

  it('falls back to the combined log for good when a stream read is refused later (422), a follow resuming without loss', async () => {
    const refuseStream = (): void => cluster.faults.set({ rate: 1, kind: '422', match: (method, path, query) => path.endsWith('/log') && query.has('stream') });
    const driver = newDriver();
    const done = await driver.runContainer({ id: 'apart', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2'] });
    await done.wait();
    expect(await readLogs(done)).toEqual({ stdout: 'out\n', stderr: 'err\n', streams: 'separate' });
    refuseStream();
    const combined = await readLogs(done);
    expect(combined).toMatchObject({ stderr: '', streams: 'combined' });
    expect(combined.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
    cluster.faults.clear();
    // For the rest of the driver's life, even once the server would take `stream` again.
    expect(await readLogs(done)).toMatchObject({ stderr: '', streams: 'combined' });

    // A follow reading the streams apart, whose reconnect is refused: it goes on combined from where stdout got to.
    // (What a process learnt of a cluster is shared per API server and user: this driver is another user, so it probes afresh.)
    const other = newDriver({ kubeConfig: asAnotherUser() });
    const running = await other.runContainer({ id: 'switch', image: 'busybox', command: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); sleep 0.1; done'] });
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const following = running.logs({ stdout, stderr, follow: true });
    const deadline = Date.now() + 20_000;
    while (!stdout.text().includes('line 5') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    refuseStream();
    await cluster.restart();
    expect(await following).toEqual({ streams: 'combined' });
    expect(stdout.text()).toBe(Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join(''));
    expect(stderr.text()).toBe('');
  }, TIMEOUT);

  it('waits out a CreateContainerError (kubelets retry it) and says so on drivetrain:start:waiting', async () => {
    const driver = newDriver();
    const heard: StartWaitingEvent[] = [];
    const listen = (message: unknown): void => void heard.push(message as StartWaitingEvent);
    subscribe(START_WAITING_CHANNEL, listen);
    try {
      cluster.faults.failContainerCreates(1);
      const container = await driver.runContainer({ id: 'create-retried', image: 'busybox', command: ['sh', '-c', 'echo created'] }, { signal: AbortSignal.timeout(60_000) });
      expect(await container.wait()).toMatchObject({ done: true, exitCode: 0 });
      expect((await readLogs(container)).stdout).toBe('created\n');
      expect(heard).toContainEqual(expect.objectContaining({ driver: 'k8s', taskId: 'create-retried', reason: 'CreateContainerError', message: expect.stringContaining('failed to reserve container name') }));
    } finally {
      unsubscribe(START_WAITING_CHANNEL, listen);
    }
  }, TIMEOUT);
});

/** A task that runs until the test ends its input, then exits with `code`. */
async function heldTask(driver: K8sDriver, id: string, code: number): Promise<{ input: PassThrough; container: Awaited<ReturnType<K8sDriver['runContainer']>> }> {
  const input = new PassThrough();
  const container = await driver.runContainer({ id, image: 'busybox', command: ['sh', '-c', `cat > /dev/null; exit ${code}`], stdin: input });
  return { input, container };
}

/** The shared informers' LISTs so far (the driver's other lists, e.g. at close, select otherwise). */
function informerLists(): number {
  return cluster.metrics.recent('list', 'pods').filter((r) => new URL(r.requestURI, 'https://x').searchParams.get('labelSelector') === 'drivetrain.dev/managed=true').length;
}

describe('k8s drivers of one process share one pod watch per Kubernetes namespace', () => {
  it('one WATCH (and no LIST: the first create was alone) for two drivers; one driver closing (or aborting its wait) leaves the other hearing its task end', async () => {
    const first = newDriver();
    const second = newDriver();
    const watchesBefore = cluster.metrics.count('watch', 'pods');
    const listsBefore = informerLists();
    const held = await heldTask(first, 'held-1', 3);
    const other = await heldTask(second, 'held-2', 4);
    expect(sharedPodWatchers()).toBe(1);
    expect(cluster.metrics.count('watch', 'pods') - watchesBefore).toBe(1);
    expect(informerLists() - listsBefore).toBe(0);
    // A wait of the first driver aborted, then the first driver closed: the second's wait goes on.
    const aborted = new AbortController();
    const abandoned = held.container.wait({ signal: aborted.signal });
    aborted.abort(new Error('given up'));
    await expect(abandoned).rejects.toThrow('given up');
    const waited = other.container.wait({ signal: AbortSignal.timeout(30_000) });
    held.input.end();
    await first.close({ signal: AbortSignal.timeout(30_000) });
    expect(sharedPodWatchers()).toBe(1);
    other.input.end('go\n');
    // The liveness re-read is 90 s away: only the shared watch can tell this wait in time.
    expect(await waited).toMatchObject({ done: true, exitCode: 4 });
    expect(cluster.metrics.count('watch', 'pods') - watchesBefore).toBe(1);
    await second.close({ signal: AbortSignal.timeout(30_000) });
    // The last user gone, the watch is closed.
    expect(sharedPodWatchers()).toBe(0);
  }, TIMEOUT);

  it('a watch expired (410 Gone) is re-listed once for every driver, and each wait still resolves', async () => {
    const drivers = [newDriver(), newDriver()];
    const held = await Promise.all(drivers.map((driver, i) => heldTask(driver, `expiring-${i}`, 10 + i)));
    const waits = held.map(({ container }) => container.wait({ signal: AbortSignal.timeout(30_000) }));
    // The watch falls behind (silenced), the store moves on and is compacted: resuming is answered 410.
    cluster.faults.silenceWatches();
    const core = kubeconfigClient();
    await core.createNamespacedConfigMap({ namespace: drivers[0]!.kubernetesNamespace, body: { metadata: { name: `moves-on-${Date.now()}` } } });
    const listsBefore = cluster.metrics.count('list', 'pods');
    expect(cluster.faults.expireWatches()).toBeGreaterThan(0);
    for (const { input } of held) input.end('go\n');
    expect(await Promise.all(waits)).toMatchObject([
      { done: true, exitCode: 10 },
      { done: true, exitCode: 11 },
    ]);
    // One re-list for both drivers: the watch is theirs together.
    const deadline = Date.now() + 20_000;
    while (cluster.metrics.count('list', 'pods') === listsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cluster.metrics.count('list', 'pods') - listsBefore).toBe(1);
  }, TIMEOUT);
});

describe('k8s: the shared watch started by a lone create', () => {
  it('watches from the create\'s resourceVersion with no LIST; wait() hears its task and one made before the watch started (getContainer), across a dropped watch', async () => {
    // Made by another user's driver (a watch of its own) before this driver's watch exists.
    const maker = newDriver({ kubeConfig: asAnotherUser() });
    const earlier = await heldTask(maker, 'earlier', 7);
    const driver = newDriver({ namespace: maker.namespace });
    const listsBefore = informerLists();
    const watchesBefore = cluster.metrics.recent('watch', 'pods').length;
    const lone = await heldTask(driver, 'lone', 8);
    const watches = cluster.metrics.recent('watch', 'pods').slice(watchesBefore);
    expect(watches).toHaveLength(1);
    expect(new URL(watches[0]!.requestURI, 'https://x').searchParams.get('resourceVersion')).toMatch(/^[1-9]\d*$/);
    const found = await driver.getContainer('earlier');
    // The liveness re-read is 90 s away: only the watch can tell these waits in time.
    const waits = [found.wait({ signal: AbortSignal.timeout(30_000) }), lone.container.wait({ signal: AbortSignal.timeout(30_000) })];
    // A watch that drops is resumed from its last resourceVersion (still no LIST).
    expect(cluster.faults.cutWatches()).toBeGreaterThan(0);
    earlier.input.end('go\n');
    lone.input.end('go\n');
    expect(await Promise.all(waits)).toMatchObject([
      { done: true, exitCode: 7 },
      { done: true, exitCode: 8 },
    ]);
    expect(informerLists() - listsBefore).toBe(0);
  }, TIMEOUT);

  it('a watch from the create\'s resourceVersion that fails falls back to LIST + WATCH, and wait() still hears the end', async () => {
    const driver = newDriver();
    const listsBefore = informerLists();
    // The first watch request is answered 500; a retry from the same resourceVersion would make no LIST.
    cluster.faults.set({ rate: 1, kind: '500', match: (method, _path, query) => method === 'GET' && query.get('watch') === 'true' && informerLists() === listsBefore });
    const held = await heldTask(driver, 'fallback', 9);
    const deadline = Date.now() + 20_000;
    while (informerLists() === listsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cluster.faults.injected).toBeGreaterThanOrEqual(1);
    expect(informerLists() - listsBefore).toBe(1);
    const waited = held.container.wait({ signal: AbortSignal.timeout(30_000) });
    held.input.end('go\n');
    expect(await waited).toMatchObject({ done: true, exitCode: 9 });
  }, TIMEOUT);

  it('creates made at once list: a create answered while another was under way may be older than its resourceVersion', async () => {
    const driver = newDriver();
    const listsBefore = informerLists();
    const held = await Promise.all([heldTask(driver, 'at-once-1', 1), heldTask(driver, 'at-once-2', 2)]);
    const waits = held.map(({ container }) => container.wait({ signal: AbortSignal.timeout(30_000) }));
    for (const { input } of held) input.end('go\n');
    expect(await Promise.all(waits)).toMatchObject([
      { done: true, exitCode: 1 },
      { done: true, exitCode: 2 },
    ]);
    expect(informerLists() - listsBefore).toBe(1);
  }, TIMEOUT);
});

/** The cluster's kubeconfig with its user renamed: the same credentials, another identity to the process. */
function asAnotherUser(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const renamed = kc.getCurrentUser()!.name + '-other';
  kc.loadFromOptions({
    clusters: kc.getClusters(),
    users: kc.getUsers().map((user) => ({ ...user, name: renamed })),
    contexts: kc.getContexts().map((context) => ({ ...context, user: renamed })),
    currentContext: kc.getCurrentContext(),
  });
  return kc;
}

function kubeconfigClient(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}
