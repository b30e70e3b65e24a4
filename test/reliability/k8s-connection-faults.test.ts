import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK8sDriver, type K8sDriver } from '../../drivers/k8s/index.js';
import { claimName, TASK_CONTAINER } from '../../drivers/k8s/naming.js';
import { EngineError, EngineUnavailableError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { readTar } from '../conformance/helpers.js';
import { startLocalCluster, type LocalCluster } from '../k8s-server/cluster.js';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { runDockerLabels, testNamespace } from '../setup/test-run.js';
import { docker, sh } from './drivers.js';
import { SilencingProxy } from './silencing-proxy.js';
import { eventually } from '../support/poll.js';
import { tarBytes, tarOf } from '../support/tar.js';

// A cluster of this file's own (its connections are silenced and it is restarted), reached by
// the driver through a proxy that can make connections half-open; the tests release their
// tasks through the node's Docker engine, past the API server.
const LIVENESS_MS = 1_000;
let cluster: LocalCluster;
let proxy: SilencingProxy;

beforeAll(async () => {
  cluster = await startLocalCluster({ ...DRIVER_CLUSTER, dockerLabels: runDockerLabels() });
  proxy = await SilencingProxy.start({ port: Number(new URL(cluster.url).port) }, { port: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await cluster?.stop({ removeContainers: true });
});

/** A driver whose API server is the proxy (the server's certificate names 127.0.0.1, so TLS holds). */
function proxiedDriver(): K8sDriver {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const current = kubeConfig.getCurrentCluster();
  if (current === null) throw new Error('the local kubeconfig has no cluster');
  const port = (proxy.address as { port: number }).port;
  kubeConfig.clusters = kubeConfig.clusters.map((c) => (c.name === current.name ? { ...c, server: `https://127.0.0.1:${port}` } : c));
  return createK8sDriver({ kubeConfig, namespace: testNamespace('khalf'), livenessIntervalMs: LIVENESS_MS, retry: { retries: 2, maxRetryTimeMs: 3_000 } });
}

async function withDriver(body: (driver: K8sDriver) => Promise<void>): Promise<void> {
  const driver = proxiedDriver();
  try {
    await body(driver);
  } finally {
    // The network is back for the driver's own cleanup.
    proxy.reset();
    await driver.close({ signal: AbortSignal.timeout(60_000) });
  }
}

/** Runs `sh -c script` in a pod's task container through the node's Docker engine. */
async function execInNode(podName: string, script: string): Promise<void> {
  const [found] = await docker.listContainers({ filters: { label: [`drivetrain-local-k8s/pod-name=${podName}`, `drivetrain-local-k8s/container-name=${TASK_CONTAINER}`] } });
  if (found === undefined) throw new Error(`no running container of pod ${podName}`);
  const exec = await docker.getContainer(found.Id).exec({ Cmd: sh(script) });
  await exec.start({ Detach: true });
}

/** Prints `first`, waits for /tmp/go, prints `second` and exits 4. */
const GATED = 'echo first; until [ -e /tmp/go ]; do sleep 0.05; done; echo second; exit 4';

describe('k8s driver over half-open connections to the API server', () => {
  it('wait(): the watch and every open connection go silent; the exit is still seen', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const container = await driver.runContainer({ id: 'wait', image: 'busybox', command: sh(GATED) }, { signal });
      const waited = container.wait({ signal });
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      await execInNode((container as unknown as { podName: string }).podName, 'touch /tmp/go');
      expect(await waited).toMatchObject({ done: true, exitCode: 4 });
    });
  }, 120_000);

  it('a follow goes silent: resumed from its last timestamp, every line once', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const container = await driver.runContainer({ id: 'follow', image: 'busybox', command: sh(GATED) }, { signal });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal });
      await eventually(async () => stdout.text() === 'first\n', 30_000, 'the first line');
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      await execInNode((container as unknown as { podName: string }).podName, 'touch /tmp/go');
      await following;
      expect(stdout.text()).toBe('first\nsecond\n');
    });
  }, 120_000);

  it('exec: its WebSocket goes silent; an unanswered ping ends it with StreamLost, no exit code', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const sandbox = await driver.startSandbox({ id: 'exec', image: 'busybox' }, { signal });
      const stdout = new CollectingWritable();
      const executed = sandbox.exec(sh('echo first; sleep 600'), { stdout, signal });
      await eventually(async () => stdout.text() === 'first\n', 30_000, 'the first line');
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      const status = await executed;
      expect(status).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
      expect(status.message).toMatch(/half-open/);
      // The next exec, on a fresh connection, works.
      expect(await sandbox.exec(sh('exit 3'), { signal })).toMatchObject({ exitCode: 3 });
    });
  }, 120_000);
});

describe('k8s driver log reads on kept-alive connections', () => {
  it('ten plain reads and a follow of a finished task reuse the kept-alive connections, every byte once', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const container = await driver.runContainer({ id: 'reads', image: 'busybox', command: sh("printf 'one\\ntwo'") }, { signal });
      expect(await container.wait({ signal })).toMatchObject({ done: true, exitCode: 0 });
      const read = async (follow: boolean): Promise<string> => {
        const stdout = new CollectingWritable();
        await container.logs({ stdout, follow, signal });
        return stdout.text();
      };
      // The first read also learns whether the server reads the streams apart.
      expect(await read(false)).toBe('one\ntwo');
      const before = proxy.accepted;
      for (let i = 0; i < 10; i++) expect(await read(false)).toBe('one\ntwo');
      expect(await read(true)).toBe('one\ntwo');
      // A connection per read (and two per follow) without keep-alive: 12 or more. With it,
      // none; a few at most where a loaded machine leaves one idle past the server's 5 s.
      expect(proxy.accepted - before).toBeLessThanOrEqual(3);
    });
  }, 120_000);
});

describe('k8s driver with an API server silent for good (every connection, old and new)', () => {
  it('wait(), a follow and an exec end with a typed error or StreamLost, never a hang', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const container = await driver.runContainer({ id: 'gone', image: 'busybox', command: sh('echo first; sleep 600') }, { signal });
      const sandbox = await driver.startSandbox({ id: 'gone-exec', image: 'busybox' }, { signal });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal }).catch((error: unknown) => error);
      const execOut = new CollectingWritable();
      const executed = sandbox.exec(sh('echo first; sleep 600'), { stdout: execOut, signal });
      await eventually(async () => stdout.text() === 'first\n' && execOut.text() === 'first\n', 30_000, 'the first lines');
      const waited = container.wait({ signal }).catch((error: unknown) => error);
      proxy.silenceAll();
      expect(await waited).toBeInstanceOf(EngineUnavailableError);
      expect(await following).toBeInstanceOf(EngineUnavailableError);
      expect(await executed).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
    });
  }, 120_000);
});

describe('k8s driver across an API server restart in the middle of an operation', () => {
  it('exec: the restart cuts its stream; it completes or reports StreamLost, never an invented exit code', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      const sandbox = await driver.startSandbox({ id: 'exec-restart', image: 'busybox' }, { signal });
      const stdout = new CollectingWritable();
      const executed = sandbox.exec(sh(GATED), { stdout, signal });
      await eventually(async () => stdout.text() === 'first\n', 30_000, 'the first line');
      await cluster.restart();
      await execInNode((sandbox as unknown as { podName: string }).podName, 'touch /tmp/go');
      const status = await executed;
      if (status.exitCode === 4) expect(stdout.text()).toBe('first\nsecond\n');
      else expect(status).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
      // The restarted server takes the next exec.
      expect(await sandbox.exec(sh('exit 3'), { signal })).toMatchObject({ exitCode: 3 });
    });
  }, 120_000);

  it('copyToVolume: the restart cuts the copy; it fails typed and the volume keeps its old content only, or it completes whole', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(90_000);
      await driver.copyToVolume('data', tarOf([{ name: 'old.txt', content: 'old\n' }]), { signal });
      const files: Array<[string, Buffer]> = [
        ['a.bin', randomBytes(2 * 1024 * 1024)],
        ['b.bin', randomBytes(2 * 1024 * 1024)],
      ];
      const archive = await tarBytes(files.map(([name, content]) => ({ name, content })));
      // The first MiB goes at once; the rest only after the restart.
      const source = new PassThrough();
      source.write(archive.subarray(0, 1024 * 1024));
      const copying = driver.copyToVolume('data', source, { signal }).then(
        () => 'completed' as const,
        (error: unknown) => error,
      );
      // The helper's tar is extracting: its staging directory in the claim's Docker volume holds a file.
      await eventually(async () => (await stagedFiles(driver.namespace, 'data')) > 0, 60_000, 'the helper to extract the first MiB');
      await cluster.restart();
      source.end(archive.subarray(1024 * 1024));
      const outcome = await copying;
      const content = await readTar(await driver.copyFromVolume('data', { signal }));
      expect(content.get('old.txt')?.content.toString()).toBe('old\n');
      if (outcome === 'completed') {
        for (const [name, bytes] of files) expect(content.get(name)?.content.equals(bytes)).toBe(true);
      } else {
        // The exec was lost: an engine failure, not a fault of the caller's archive.
        expect(outcome).toBeInstanceOf(EngineError);
        expect((outcome as Error).message).toMatch(/StreamLost/);
        // Extracted into a staging directory and merged only when whole: nothing of it arrived.
        expect([...content.keys()].filter((name) => name.endsWith('.bin'))).toEqual([]);
      }
    });
  }, 120_000);
});

/** Files in the staging directories (`.drivetrain-incoming-*`) of a volume's claim, read from its Docker volume on the host. */
async function stagedFiles(namespace: string, volume: string): Promise<number> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`drivetrain-local-k8s/claim=${claimName(namespace, volume)}`] } });
  const mountpoint = Volumes?.[0]?.Mountpoint;
  if (mountpoint === undefined) return 0;
  const staging = readdirSync(mountpoint).filter((name) => name.startsWith('.drivetrain-incoming-'));
  return staging.reduce((count, dir) => count + readdirSync(join(mountpoint, dir)).length, 0);
}
