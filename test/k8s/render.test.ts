import type { V1Job, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import type { SandboxTask, Task } from '../../src/types.js';
import type { K8sDriver, K8sTaskObject } from '../../drivers/k8s/index.js';
import { ownCluster } from './own-cluster.js';

// A cluster of its own: its request counts are this file's alone.
const { cluster, core, batch, k8sNamespace, newDriver } = await ownCluster('k8rd');
const TIMEOUT = 120_000;

/** The requests the server counted while `work` ran on `driver` and the driver then closed, by verb and resource. */
async function requestsOf(driver: K8sDriver, work: (driver: K8sDriver) => void): Promise<string[]> {
  cluster.metrics.reset();
  work(driver);
  await driver.close();
  return cluster.metrics
    .snapshot()
    .filter((series) => series.count > 0)
    .map((series) => `${series.verb} ${series.resource} ${series.count}`)
    .sort();
}

function totalRequests(): number {
  return cluster.metrics.snapshot().reduce((sum, series) => sum + series.count, 0);
}

/** What the server would store for `object` as given, defaults included: a server-side dry run (nothing stored). */
async function storedForm(object: K8sTaskObject | V1PersistentVolumeClaim): Promise<object> {
  const namespace = k8sNamespace;
  if (object.kind === 'Job') return batch.createNamespacedJob({ namespace, body: object as V1Job, dryRun: 'All' });
  if (object.kind === 'Pod') return core.createNamespacedPod({ namespace, body: object as V1Pod, dryRun: 'All' });
  return core.createNamespacedPersistentVolumeClaim({ namespace, body: object, dryRun: 'All' });
}

/** What the persistent volume controller writes on a claim it provisions and binds (pkg/controller/volume/persistentvolume/pv_controller.go `setClaimProvisioner`, `bindClaimToVolume`). */
const BINDER_ANNOTATIONS = ['pv.kubernetes.io/bind-completed', 'pv.kubernetes.io/bound-by-controller', 'volume.kubernetes.io/storage-provisioner', 'volume.beta.kubernetes.io/storage-provisioner'];

/** The object as read, without what the server sets as it goes: identity, versions, status, the scheduler's node, a Job's own UID, a claim's binding. */
function specified(object: object): unknown {
  const copy = structuredClone(object) as V1Pod & V1Job & V1PersistentVolumeClaim & { status?: unknown };
  delete copy.status;
  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields'] as const) delete copy.metadata?.[field];
  if (copy.kind === 'Pod') delete copy.spec?.nodeName;
  if (copy.kind === 'PersistentVolumeClaim') {
    delete (copy.spec as { volumeName?: string } | undefined)?.volumeName;
    for (const annotation of BINDER_ANNOTATIONS) delete copy.metadata?.annotations?.[annotation];
  }
  if (copy.kind === 'Job' && copy.spec !== undefined) {
    // The Job controller's labels and selector name the Job's UID (pkg/registry/batch/job/strategy.go generateSelector).
    delete copy.spec.selector;
    for (const label of ['controller-uid', 'batch.kubernetes.io/controller-uid']) delete copy.spec.template.metadata?.labels?.[label];
  }
  return copy;
}

/**
 * The rendered object is what the driver creates: every field it renders is in the stored
 * object as rendered, and the stored object has nothing more than the server's defaults of the
 * rendered one (its dry run, made before the start).
 */
async function expectCreatedAsRendered(rendered: K8sTaskObject | V1PersistentVolumeClaim, dryRun: object, read: () => Promise<object>): Promise<void> {
  const stored = await read();
  expect(stored).toMatchObject(rendered);
  expect(specified(stored)).toEqual(specified(dryRun));
}

const readPod = (name: string) => () => core.readNamespacedPod({ name, namespace: k8sNamespace });
const readJob = (name: string) => () => batch.readNamespacedJob({ name, namespace: k8sNamespace });
const readClaim = (name: string) => () => core.readNamespacedPersistentVolumeClaim({ name, namespace: k8sNamespace });

describe('k8s driver: rendering a task', () => {
  it('renders and names without a single API request', async () => {
    const task: Task = { id: 'Render_Me', image: 'busybox', command: ['true'], mounts: [{ volume: 'cache', path: '/cache' }] };
    const renderEverything = (driver: K8sDriver, kind: 'Pod' | 'Job'): void => {
      expect(driver.renderTask(task).object.kind).toBe(kind);
      expect(driver.renderSandbox({ id: 'box', image: 'busybox', mounts: [{ volume: 'tools', path: '/t' }] }).object.kind).toBe('Pod');
      expect(() => driver.renderTask({ ...task, user: 'root' })).toThrow(InvalidInputError);
      expect(driver.taskObjectName('Render_Me')).toMatch(/--render-me-[0-9a-f]{10}$/);
      expect(driver.volumeClaimName('cache')).toBe(`dt-${driver.namespace}--vol-cache`);
    };
    for (const [options, kind] of [[{}, 'Pod'], [{ mode: 'job', ttlSecondsAfterFinished: 60 }, 'Job']] as const) {
      // What a driver that does nothing costs (its close's lists), and one that renders and names:
      // the same requests. Anything rendering sent, also in the background, would be counted by
      // the close (its Lease's removal waits for a Lease write, its lists follow a request sent before).
      const idle = await requestsOf(newDriver(options), () => {});
      const driver = newDriver(options);
      const rendering = await requestsOf(driver, () => {
        renderEverything(driver, kind);
        expect(totalRequests()).toBe(0);
      });
      expect(idle.length).toBeGreaterThan(0);
      expect(rendering).toEqual(idle);
      // Closed, it renders and names as before (and still asks nothing).
      cluster.metrics.reset();
      renderEverything(driver, kind);
      expect(totalRequests()).toBe(0);
    }
  });

  it('a bad task fails render as it fails the start: the same error class, code, field and message', async () => {
    const driver = newDriver();
    const restricted = newDriver({ securityProfile: 'restricted' });
    const base = { id: 'bad', image: 'busybox', command: ['true'] };
    // [driver, task, also bad as a sandbox task (which has no command, timeout or terminal)]
    const tasks: Array<[K8sDriver, unknown, boolean]> = [
      [driver, { ...base, id: '' }, true],
      [driver, { ...base, image: 'BusyBox' }, true],
      [driver, { ...base, command: 'true' }, false],
      [driver, { ...base, user: 'root' }, true],
      [driver, { ...base, mounts: [{ volume: 'Bad Volume', path: '/v' }] }, true],
      [driver, { ...base, timeoutMs: -1 }, false],
      [driver, { ...base, tty: { columns: 0, rows: 24 } }, false],
      [driver, { ...base, services: [{ name: 'Not A Name', image: 'busybox' }] }, true],
      [restricted, { ...base, privileged: true }, true],
    ];
    const caught = async (run: () => unknown): Promise<unknown> => {
      try {
        await run();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const shape = (error: unknown) => ({ class: (error as object)?.constructor, ...(error as object), message: (error as Error)?.message });
    for (const [each, task, badSandbox] of tasks) {
      const fromRender = await caught(() => each.renderTask(task as Task));
      const fromRun = await caught(() => each.runContainer(task as Task));
      expect(fromRender, JSON.stringify(task)).toBeInstanceOf(InvalidInputError);
      expect(shape(fromRender), JSON.stringify(task)).toEqual(shape(fromRun));
      if (!badSandbox) continue;
      const { command: _, ...sandbox } = task as Task;
      const fromRenderSandbox = await caught(() => each.renderSandbox(sandbox));
      expect(fromRenderSandbox, JSON.stringify(sandbox)).toBeInstanceOf(InvalidInputError);
      expect(shape(fromRenderSandbox), JSON.stringify(sandbox)).toEqual(shape(await caught(() => each.startSandbox(sandbox))));
    }
  });

  it('creates the Pod it renders: a plain task, and one with volumes', async () => {
    const driver = newDriver({ labels: { team: 'render' }, annotations: { note: 'a $(VAR) kept' } });
    const plain: Task = { id: 'Plain_Task', image: 'busybox', command: ['sh', '-c', 'echo $HOME $(X)'], env: { A: '1', COST: '$5' }, labels: { kind: 'plain' }, limits: { cpuShares: 512, memoryBytes: 64 * 2 ** 20 }, timeoutMs: 90_500, user: '1000:1000' };
    const mounted: Task = { id: 'with-volumes', image: 'busybox', command: ['sh', '-c', 'ls /cache /data'], workDir: '/data/work', mounts: [{ volume: 'cache', path: '/cache' }, { volume: 'data', path: '/data' }, { volume: 'cache', path: '/ro', readOnly: true }] };
    const renderedPlain = driver.renderTask(plain);
    const renderedMounted = driver.renderTask(mounted);
    expect(renderedPlain.volumeClaims).toEqual([]);
    expect(renderedMounted.volumeClaims.map((claim) => claim.metadata?.name)).toEqual([driver.volumeClaimName('cache'), driver.volumeClaimName('data')]);
    const dryRuns = await Promise.all([renderedPlain.object, renderedMounted.object, ...renderedMounted.volumeClaims].map(storedForm));

    const [plainContainer, mountedContainer] = await Promise.all([driver.runContainer(plain), driver.runContainer(mounted)]);
    expect(plainContainer.podName).toBe(driver.taskObjectName(plain.id));
    expect(plainContainer.jobName).toBeUndefined();
    expect(mountedContainer.podName).toBe(driver.taskObjectName(mounted.id));
    await expectCreatedAsRendered(renderedPlain.object, dryRuns[0] as object, readPod(plainContainer.podName));
    await expectCreatedAsRendered(renderedMounted.object, dryRuns[1] as object, readPod(mountedContainer.podName));
    for (const [i, claim] of renderedMounted.volumeClaims.entries()) await expectCreatedAsRendered(claim, dryRuns[2 + i] as object, readClaim(claim.metadata?.name as string));
  }, TIMEOUT);

  it('creates the Job it renders in job mode, and the sandbox pod it renders', async () => {
    const driver = newDriver({ mode: 'job', ttlSecondsAfterFinished: 600, secretEnv: { TOKEN: { secret: 'absent-secret', key: 'token', optional: true } }, nodeSelector: { 'kubernetes.io/os': 'linux' } });
    const task: Task = { id: 'attempt-1', image: 'busybox', command: ['sh', '-c', 'echo attempt'], env: { TARGET: 'radix' }, timeoutMs: 60_000 };
    const sandbox: SandboxTask = { id: 'Box_1', image: 'busybox', env: { B: '2' }, mounts: [{ volume: 'tools', path: '/tools' }] };
    const renderedJob = driver.renderTask(task);
    const renderedSandbox = driver.renderSandbox(sandbox);
    expect(renderedJob.object).toMatchObject({ kind: 'Job', spec: { backoffLimit: 0, ttlSecondsAfterFinished: 600 } });
    const dryRuns = await Promise.all([renderedJob.object, renderedSandbox.object, ...renderedSandbox.volumeClaims].map(storedForm));

    const [container, box] = await Promise.all([driver.runContainer(task), driver.startSandbox(sandbox)]);
    expect(container.jobName).toBe(driver.taskObjectName(task.id));
    await expectCreatedAsRendered(renderedJob.object, dryRuns[0] as object, readJob(container.jobName as string));
    // The pod the Job made is its template, rendered.
    if (renderedJob.object.kind !== 'Job') throw new Error('job mode rendered a Pod');
    const jobPod = await core.readNamespacedPod({ name: container.podName, namespace: k8sNamespace });
    expect(jobPod.metadata?.labels?.['job-name']).toBe(container.jobName);
    expect(jobPod.spec).toMatchObject(renderedJob.object.spec?.template.spec as object);
    await expectCreatedAsRendered(renderedSandbox.object, dryRuns[1] as object, readPod(driver.taskObjectName(box.id)));
    await expectCreatedAsRendered(renderedSandbox.volumeClaims[0] as V1PersistentVolumeClaim, dryRuns[2] as object, readClaim(driver.volumeClaimName('tools')));
  }, TIMEOUT);
});
