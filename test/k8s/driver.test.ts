import { randomBytes } from 'node:crypto';
import { testNamespace } from '../setup/test-run.js';
import { Readable } from 'node:stream';
import { AppsV1Api, KubeConfig, CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CloseTimeoutError, ConflictError, ContainerNotFoundError, ContainerStartError, DriverClosedError, ImagePullError, InvalidInputError, NotFoundError, StartTimeoutError } from '../../src/errors.js';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { createK8sDriver, doctor, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { claimName, taskObjectName } from '../../drivers/k8s/naming.js';
import { dockerConfigJson, REGISTRY_BUSYBOX } from '../infra/registry.js';
import { tarOf } from '../support/tar.js';

const kubeconfig = inject('kubeconfig');
const drivers: Driver[] = [];
const TIMEOUT = 90_000;

function kc(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return config;
}
const core = kc().makeApiClient(CoreV1Api);
const apps = kc().makeApiClient(AppsV1Api);
const k8sNamespace = kc().getContextObject(kc().getCurrentContext())?.namespace ?? 'default';

function newDriver(options: Partial<K8sDriverOptions> = {}): K8sDriver {
  const namespace = options.namespace ?? testNamespace('k8t');
  const driver = createK8sDriver({ kubeconfig, ...options, namespace }) as K8sDriver;
  drivers.push(driver);
  return driver;
}

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

const task = (id: string, command: string[], extra: object = {}) => ({ id, image: 'busybox', command, ...extra });

describe('k8s driver against the cluster', () => {
  it('makes one pod for 20 concurrent runs of one ID, found by a fresh driver instance', async () => {
    const driver = newDriver();
    const id = `Same_ID-${randomBytes(3).toString('hex')}`;
    // Half through a second instance, so the API server's 409 AlreadyExists path is taken too.
    const twin = newDriver({ namespace: driver.namespace });
    const containers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? driver : twin).runContainer(task(id, ['sleep', '30']))));
    expect(new Set(containers.map((c) => c.id))).toEqual(new Set([id]));
    const pods = await core.listNamespacedPod({ namespace: k8sNamespace, labelSelector: `drivetrain.dev/namespace=${driver.namespace}` });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual([taskObjectName(driver.namespace, id)]);
    const other = newDriver({ namespace: driver.namespace });
    const found = await other.getContainer(id);
    expect(await found.status()).toEqual({ done: false, exitCode: null });
    await expect(other.getContainer(`${id}-nope`)).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, TIMEOUT);

  it('close is bounded by closeTimeoutMs: past it CloseTimeoutError, and a later close removes what is left', async () => {
    const driver = newDriver({ closeTimeoutMs: 1 });
    // Its own close cannot finish within 1 ms: the later driver below closes the namespace.
    drivers.splice(drivers.indexOf(driver), 1);
    await driver.runContainer(task(`bound-${randomBytes(3).toString('hex')}`, ['sleep', '30']));
    const error = await driver.close().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CloseTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_CLOSE_TIMEOUT', namespace: driver.namespace, timeoutMs: 1 });
    await newDriver({ namespace: driver.namespace }).close();
    const pods = await core.listNamespacedPod({ namespace: k8sNamespace, labelSelector: `drivetrain.dev/namespace=${driver.namespace}` });
    expect(pods.items).toEqual([]);
  }, TIMEOUT);

  it('adopts across instances and refuses a name taken by another purpose', async () => {
    const driver = newDriver();
    const id = `adopt-${randomBytes(3).toString('hex')}`;
    const first = await newDriver({ namespace: driver.namespace }).runContainer(task(id, ['sh', '-c', 'echo once']));
    const second = await driver.runContainer(task(id, ['sh', '-c', 'echo twice']));
    expect((await second.wait()).exitCode).toBe(0);
    expect((await readLogs(first)).stdout).toBe('once\n');
    await expect(driver.startSandbox({ id, image: 'busybox' })).rejects.toBeInstanceOf(ConflictError);
  }, TIMEOUT);

  it('reports a pod deleted by someone else as Deleted with no exit code, and wait() resolves', async () => {
    const driver = newDriver();
    const id = `deleted-${randomBytes(3).toString('hex')}`;
    const container = await driver.runContainer(task(id, ['sleep', '60']));
    const waited = container.wait();
    await core.deleteNamespacedPod({ name: taskObjectName(driver.namespace, id), namespace: k8sNamespace, gracePeriodSeconds: 0 });
    expect(await waited).toMatchObject({ done: true, exitCode: null, reason: 'Deleted' });
    expect(await container.status()).toMatchObject({ done: true, exitCode: null, reason: 'Deleted' });
  }, TIMEOUT);

  it('deletes running pods gracefully, never by force: task cleanup, sandbox cleanup and close', async () => {
    const driver = newDriver();
    const seen: string[] = [];
    const watch = await new Watch(kc()).watch(
      `/api/v1/namespaces/${k8sNamespace}/pods`,
      { labelSelector: `drivetrain.dev/namespace=${driver.namespace}` },
      (type: string, pod: V1Pod) => {
        const meta = pod.metadata;
        seen.push(`${type} ${meta?.labels?.['drivetrain.dev/role']} ${meta?.deletionTimestamp === undefined ? '-' : `grace=${meta.deletionGracePeriodSeconds}`}`);
      },
      () => {},
    );
    try {
      const container = await driver.runContainer(task('graceful', ['sleep', '300']));
      const sandbox = await driver.startSandbox({ id: 'graceful-sandbox', image: 'busybox' });
      await container.cleanup();
      await sandbox.cleanup();
      await driver.runContainer(task('graceful-close', ['sleep', '300']));
      await driver.close();
      // A force delete (grace 0) removes the object at once: DELETED with no terminating MODIFIED before it.
      for (const role of ['task', 'sandbox']) {
        const events = seen.filter((line) => line.split(' ')[1] === role);
        const terminating = events.filter((line) => line.startsWith('MODIFIED') && /grace=[1-9]/.test(line));
        expect(terminating.length, events.join('\n')).toBeGreaterThanOrEqual(role === 'task' ? 2 : 1);
        expect(events.filter((line) => line.includes('grace=0'))).toEqual([]);
      }
    } finally {
      watch.abort();
    }
  }, TIMEOUT);

  it('does not leave a fast task running, and keeps its logs until cleanup', async () => {
    const driver = newDriver();
    const container = await driver.runContainer(task(`fast-${randomBytes(3).toString('hex')}`, ['sh', '-c', 'echo quick; echo oops >&2']));
    expect(await container.wait()).toMatchObject({ done: true, exitCode: 0 });
    expect(await readLogs(container)).toEqual({ stdout: 'quick\n', stderr: 'oops\n', streams: 'separate' });
    expect(await readLogs(container, { follow: true })).toEqual({ stdout: 'quick\n', stderr: 'oops\n', streams: 'separate' });
    await container.cleanup();
    await container.cleanup();
    expect(await container.status()).toMatchObject({ reason: 'Deleted' });
  }, TIMEOUT);

  it('passes $, quotes and spaces to the process verbatim', async () => {
    const driver = newDriver();
    const container = await driver.runContainer(task(`dollar-${randomBytes(3).toString('hex')}`, ['sh', '-c', 'printf "%s|" "$0" "$1" "$V"', '$(HOME)', "a 'b' $$"], { env: { V: '$(PATH)$$' } }));
    await container.wait();
    expect((await readLogs(container)).stdout).toBe("$(HOME)|a 'b' $$|$(PATH)$$|");
  }, TIMEOUT);

  it('rejects a user name with a message about numeric IDs, before creating anything', async () => {
    const driver = newDriver();
    await expect(driver.runContainer(task('named-user', ['true'], { user: 'nobody' }))).rejects.toThrow(/task\.user.*numeric/);
    await expect(driver.runContainer(task('named-user', ['true'], { user: 'nobody' }))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(driver.getContainer('named-user')).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, TIMEOUT);

  it('fails a stuck pull after pullTimeoutMs with the pod events, and removes the pod', async () => {
    const driver = newDriver({ pullTimeoutMs: 2000 });
    const id = `pull-${randomBytes(3).toString('hex')}`;
    const error = await driver.runContainer(task(id, ['true'], { image: 'drivetrain-missing/image:1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePullError);
    expect((error as ImagePullError).message).toMatch(/recent events/);
    await expect(driver.getContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, TIMEOUT);

  it('fails an image that must never be pulled at once', async () => {
    const driver = newDriver({ imagePullPolicy: 'Never' });
    const error = await driver.runContainer(task(`never-${randomBytes(3).toString('hex')}`, ['true'], { image: 'drivetrain-missing/never:1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePullError);
    expect((error as ImagePullError).reason).toBe('ErrImageNeverPull');
  }, TIMEOUT);

  it('fails a pod that cannot be configured (missing secret) with ContainerStartError', async () => {
    const driver = newDriver({ secretEnv: { TOKEN: { secret: `missing-${randomBytes(3).toString('hex')}`, key: 'k' } }, startTimeoutMs: 20_000 });
    const id = `config-${randomBytes(3).toString('hex')}`;
    const error = await driver.runContainer(task(id, ['true'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerStartError);
    await expect(driver.getContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, TIMEOUT);

  // The local cluster schedules everything; a start timeout shorter than any start stands in for a pod stuck Pending.
  it('fails a pod not started by startTimeoutMs with StartTimeoutError and removes it', async () => {
    const driver = newDriver({ startTimeoutMs: 1 });
    const id = `unsched-${randomBytes(3).toString('hex')}`;
    const started = Date.now();
    const error = await driver.runContainer(task(id, ['sleep', '30'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartTimeoutError);
    expect(Date.now() - started).toBeLessThan(15_000);
    await expect(driver.getContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, TIMEOUT);

  it('works with a WaitForFirstConsumer class: the helper is the first consumer, then tasks one after another', async () => {
    const driver = newDriver({ storageClassName: 'wait-for-first-consumer' });
    await driver.createVolume('late');
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: claimName(driver.namespace, 'late'), namespace: k8sNamespace });
    // Nothing waits for the claim to bind: no pod has used it yet.
    expect(claim.status?.phase).toBe('Pending');
    await driver.copyToVolume('late', tarOf([{ name: 'seed.txt', content: 'seed\n' }]));
    const first = await driver.runContainer(task('wffc-1', ['sh', '-c', 'cat /v/seed.txt; echo one >> /v/log'], { mounts: [{ volume: 'late', path: '/v' }] }));
    expect(await first.wait()).toMatchObject({ exitCode: 0 });
    const second = await driver.runContainer(task('wffc-2', ['sh', '-c', 'echo two >> /v/log; cat /v/log'], { mounts: [{ volume: 'late', path: '/v' }] }));
    expect(await second.wait()).toMatchObject({ exitCode: 0 });
    expect((await readLogs(first)).stdout).toBe('seed\n');
    expect((await readLogs(second)).stdout).toBe('one\ntwo\n');
    const entries = await readTar(await driver.readFilesFromVolume('late', ['log']));
    expect(entries.get('log')?.toString()).toBe('one\ntwo\n');
  }, TIMEOUT);

  it('fails at once when the kubelet refuses the pod (admission), and waits out an unschedulable one to its start timeout', async () => {
    // Bound to the node by its creator, bypassing the scheduler: the kubelet's admission judges it.
    const bound = { spec: { nodeName: 'local-node' } } as unknown as K8sDriverOptions['podTemplate'];
    const selector = newDriver({ podTemplate: { spec: { nodeName: 'local-node', nodeSelector: { 'drivetrain.test/pool': 'none' } } } as unknown as K8sDriverOptions['podTemplate'] });
    const started = Date.now();
    const affinity = await selector.runContainer(task('rejected', ['true'])).catch((e: unknown) => e);
    expect(affinity).toBeInstanceOf(ContainerStartError);
    expect(affinity).toMatchObject({ reason: 'NodeAffinity', message: expect.stringContaining("Pod was rejected: Predicate NodeAffinity failed") });
    const cpu = await newDriver({ podTemplate: bound }).runContainer(task('too-big', ['true'], { limits: { cpuShares: 262_144 } })).catch((e: unknown) => e);
    expect(cpu).toMatchObject({ name: 'ContainerStartError', reason: 'OutOfcpu', message: expect.stringContaining("Node didn't have enough resource: cpu") });
    // At once: nowhere near the default start timeout (5 min).
    expect(Date.now() - started).toBeLessThan(60_000);
    await expect(selector.getContainer('rejected')).rejects.toBeInstanceOf(ContainerNotFoundError);
    // Through the scheduler the same pod never binds: it waits, Unschedulable, until the start timeout.
    const waited = await newDriver({ startTimeoutMs: 3000 }).runContainer(task('unschedulable', ['true'], { limits: { cpuShares: 262_144 } })).catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(StartTimeoutError);
    expect((waited as Error).message).toMatch(/Insufficient cpu/);
  }, TIMEOUT);

  it('tells pull errors the registry gives for good from ones worth waiting out', async () => {
    const secret = `regcred-${randomBytes(3).toString('hex')}`;
    await core.createNamespacedSecret({ namespace: k8sNamespace, body: { metadata: { name: secret }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(dockerConfigJson()).toString('base64') } } });
    const driver = newDriver({ imagePullPolicy: 'Always', imagePullSecrets: [secret] });
    // A missing tag in a registry that answers: ImagePullError long before the 2 min pull budget.
    const missing = await driver.runContainer(task('missing-tag', ['true'], { image: `${REGISTRY_BUSYBOX.replace(':latest', '')}:no-such-tag` }), { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ImagePullError);
    expect((missing as Error).message).toMatch(/manifest unknown/);
    expect((missing as Error).message).not.toMatch(/still failing after/);
    // No credentials for a registry that wants them: the same.
    const unauthorised = await newDriver({ imagePullPolicy: 'Always' }).runContainer(task('no-credentials', ['true'], { image: REGISTRY_BUSYBOX }), { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => e);
    expect(unauthorised).toBeInstanceOf(ImagePullError);
    expect((unauthorised as Error).message).toMatch(/no basic auth credentials|unauthorized|authentication required/);
    // Nobody listening: worth retrying, so the pull budget is spent first.
    const refused = await newDriver({ pullTimeoutMs: 3000 }).runContainer(task('refused', ['true'], { image: '127.0.0.1:1/busybox:latest' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImagePullError);
    expect((refused as Error).message).toMatch(/connection refused/);
    expect((refused as Error).message).toMatch(/still failing after 3000 ms/);
    await core.deleteNamespacedSecret({ name: secret, namespace: k8sNamespace });
  }, TIMEOUT);

  it('sizes claims with exact quantities', async () => {
    const driver = newDriver();
    const volume = await driver.createVolume('sized', { sizeBytes: 1073741824 });
    expect(volume.sizeBytes).toBe(1073741824);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: claimName(driver.namespace, 'sized'), namespace: k8sNamespace });
    expect(claim.spec?.resources?.requests?.storage).toBe('1Gi');
    const again = await driver.createVolume('sized');
    expect(again.name).toBe('sized');
  }, TIMEOUT);

  it('round-trips binary files, nested and empty directories through a volume with clean entry names', async () => {
    const driver = newDriver();
    await driver.createVolume('data');
    const binary = randomBytes(200_000);
    await driver.copyToVolume('data', tarOf([{ name: 'top.bin', content: binary }, { name: 'a/b/c.txt', content: 'nested\n' }, { name: 'empty/' }]));
    const entries = await readTar(await driver.copyFromVolume('data'));
    expect([...entries.keys()].sort()).toEqual(['a/', 'a/b/', 'a/b/c.txt', 'empty/', 'top.bin']);
    expect(entries.get('top.bin')?.equals(binary)).toBe(true);
    const some = await readTar(await driver.readFilesFromVolume('data', ['a/b/c.txt']));
    expect([...some.keys()]).toEqual(['a/b/c.txt']);
    expect(some.get('a/b/c.txt')?.toString()).toBe('nested\n');
    await expect(driver.readFilesFromVolume('data', ['missing.txt'])).rejects.toBeInstanceOf(NotFoundError);
    const helpers = await core.listNamespacedPod({ namespace: k8sNamespace, labelSelector: `drivetrain.dev/namespace=${driver.namespace},drivetrain.dev/role=helper` });
    expect(helpers.items.filter((p) => p.metadata?.deletionTimestamp === undefined)).toEqual([]);
  }, TIMEOUT * 2);

  it('runs sandbox commands with env, workDir and stdin as separate arguments', async () => {
    const driver = newDriver();
    const sandbox = await driver.startSandbox({ id: `sb-${randomBytes(3).toString('hex')}`, image: 'busybox' });
    const stdout = new CollectingWritable();
    const status = await sandbox.exec(['sh', '-c', 'pwd; echo "$X"; cat; exit 7'], { env: { X: 'a b $c' }, workDir: '/tmp', stdin: 'input', stdout });
    expect(status).toMatchObject({ done: true, exitCode: 7 });
    expect(stdout.text()).toBe('/tmp\na b $c\ninput');
    const started = Date.now();
    await sandbox.cleanup();
    expect(Date.now() - started).toBeLessThan(15_000);
  }, TIMEOUT);

  it('runs tasks as Jobs in job mode, with names cut to 63 characters', async () => {
    const driver = newDriver({ mode: 'job' });
    const id = `job-${'x'.repeat(80)}`;
    const container = await driver.runContainer(task(id, ['sh', '-c', 'echo from job; exit 4']));
    expect(await container.wait()).toMatchObject({ done: true, exitCode: 4 });
    expect((await readLogs(container)).stdout).toBe('from job\n');
    expect((await driver.getContainer(id)).id).toBe(id);
    const name = taskObjectName(driver.namespace, id);
    expect(name.length).toBeLessThanOrEqual(63);
  }, TIMEOUT);

  it('close removes bare pods of other instances and claims, and is final', async () => {
    const driver = newDriver();
    const other = newDriver({ namespace: driver.namespace });
    await other.runContainer(task('left-over', ['sleep', '300']));
    await driver.createVolume('kept');
    await driver.close();
    await driver.close();
    const selector = `drivetrain.dev/namespace=${driver.namespace}`;
    expect((await core.listNamespacedPod({ namespace: k8sNamespace, labelSelector: selector })).items).toEqual([]);
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: k8sNamespace, labelSelector: selector })).items).toEqual([]);
    await expect(driver.runContainer(task('after', ['true']))).rejects.toBeInstanceOf(DriverClosedError);
  }, TIMEOUT);

  it('execInWorkload explains what it searched for', async () => {
    const driver = newDriver();
    await expect(driver.execInWorkload({ labelSelector: `app=none-${randomBytes(3).toString('hex')}`, command: ['true'] })).rejects.toThrow(/no pods matching .*kubectl/);
    const sandbox = await driver.startSandbox({ id: 'workload', image: 'busybox' });
    const stdout = new CollectingWritable();
    const status = await driver.execInWorkload({ labelSelector: `drivetrain.dev/namespace=${driver.namespace},drivetrain.dev/role=sandbox`, command: ['echo', 'hi'], stdout });
    expect(status).toMatchObject({ exitCode: 0 });
    expect(stdout.text()).toBe('hi\n');
    await expect(driver.execInWorkload({ labelSelector: `drivetrain.dev/namespace=${driver.namespace}`, container: 'nope', command: ['true'] })).rejects.toThrow(/task/);
    await sandbox.cleanup();
  }, TIMEOUT);

  it('execInWorkload uses the deployment\'s whole selector, and refuses an empty one', async () => {
    const app = `wl-${randomBytes(3).toString('hex')}`;
    // A ready pod that matches the deployment's matchLabels but not its matchExpressions.
    const driver = newDriver({ labels: { app, tier: 'decoy' } });
    await driver.startSandbox({ id: 'decoy', image: 'busybox' });
    const template = { metadata: { labels: { app, tier: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }] } };
    const selector = { matchLabels: { app }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] };
    await apps.createNamespacedDeployment({ namespace: k8sNamespace, body: { metadata: { name: app }, spec: { replicas: 0, selector, template } } });
    try {
      await expect(driver.execInWorkload({ deployment: app, command: ['true'] })).rejects.toThrow(/no pods of deployment/);
      await apps.replaceNamespacedDeployment({ name: app, namespace: k8sNamespace, body: { metadata: { name: app }, spec: { replicas: 1, selector, template } } });
      const stdout = new CollectingWritable();
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ran = await driver.execInWorkload({ deployment: app, command: ['cat', '/etc/hostname'], stdout }).catch((error: unknown) => {
          if (!(error instanceof NotFoundError) || Date.now() > deadline) throw error;
        });
        if (ran !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(stdout.text()).toMatch(new RegExp(`^${app}-`));
    } finally {
      await apps.deleteNamespacedDeployment({ name: app, namespace: k8sNamespace, propagationPolicy: 'Background' });
    }
    await expect(driver.execInWorkload({ labelSelector: ' ', command: ['true'] })).rejects.toBeInstanceOf(InvalidInputError);
  }, TIMEOUT);

  it('doctor reports kubeconfig, reachability and the access checks', async () => {
    const report = await doctor({ kubeconfig });
    expect(report.checks[0]).toMatchObject({ name: 'kubeconfig', ok: true });
    expect(report.checks[1]).toMatchObject({ name: 'reachability', ok: true });
    expect(report.checks.find((c) => c.name === 'create pods/exec')).toBeDefined();
    const broken = await doctor({ kubeconfig: '/nonexistent/kubeconfig' });
    expect(broken).toMatchObject({ ok: false, checks: [{ name: 'kubeconfig', ok: false }] });
  }, TIMEOUT);
});

async function readTar(stream: Readable): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (chunk: unknown) => {
        chunks.push(chunk as Buffer);
      });
      body.on('end', () => {
        const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
        entries.set(name, Buffer.concat(chunks));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  stream.pipe(reader as unknown as NodeJS.WritableStream);
  await done;
  return entries;
}
