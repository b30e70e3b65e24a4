import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver, type DockerContainer, type DockerDriver } from '../../drivers/docker/index.js';
import type { DockerSandbox } from '../../drivers/docker/sandbox.js';
import { EngineUnavailableError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import { testNamespace } from '../setup/test-run.js';
import { docker, sh } from './drivers.js';
import { eventually } from '../support/poll.js';
import { SilencingProxy } from './silencing-proxy.js';

// The driver reaches the shared engine through a proxy that can make its connections
// half-open (packets vanish, nothing is closed); the test releases its tasks through its
// own client, straight to the engine.
const LIVENESS_MS = 1_000;
let dir: string;
let proxy: SilencingProxy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dt-half-open-'));
  proxy = await SilencingProxy.start({ path: '/var/run/docker.sock' }, { path: join(dir, 'docker.sock') });
});
afterAll(async () => {
  await proxy?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A driver through the proxy; `retry` kept short so that an engine silent for good is given up quickly. */
function proxiedDriver(): DockerDriver {
  const socketPath = (proxy.address as { path: string }).path;
  return createDockerDriver({ namespace: testNamespace('half'), docker: new Dockerode({ socketPath }), livenessIntervalMs: LIVENESS_MS, retry: { retries: 1, maxRetryTimeMs: 1_000 } });
}

/** Runs `sh -c script` in the container, past the proxy. */
async function execDirect(engineId: string, script: string): Promise<void> {
  const exec = await docker.getContainer(engineId).exec({ Cmd: sh(script) });
  await exec.start({ Detach: true });
}

/** A task (or sandbox command) that prints `first`, waits for /tmp/go, prints `second` and exits 4. */
const GATED = 'echo first; until [ -e /tmp/go ]; do sleep 0.05; done; echo second; exit 4';

async function withDriver(body: (driver: DockerDriver) => Promise<void>): Promise<void> {
  const driver = proxiedDriver();
  try {
    await body(driver);
  } finally {
    // The network is back for the driver's own cleanup.
    proxy.reset();
    await driver.close({ signal: AbortSignal.timeout(30_000) });
  }
}

describe('docker driver over half-open connections to the engine', () => {
  it('wait(): its long poll goes silent; the exit is seen by an inspect on a fresh connection', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const container = (await driver.runContainer({ id: 'wait', image: 'busybox', command: sh(GATED) }, { signal })) as DockerContainer;
      // Two keep-alive connections in the client's pool: the long poll takes one, the other
      // idles there and goes half-open with it, as a NAT drops every flow at once.
      await Promise.all([container.status({ signal }), container.status({ signal })]);
      const waited = container.wait({ signal });
      await eventually(async () => proxy.openFlows > 0, 10_000, 'the long poll to be open');
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      await execDirect(container.engineId, 'touch /tmp/go');
      expect(await waited).toMatchObject({ done: true, exitCode: 4 });
    });
  }, 90_000);

  it('wait(): an engine silent for good fails it with EngineUnavailableError, never a hang', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const container = await driver.runContainer({ id: 'silent', image: 'busybox', command: sh('sleep 600') }, { signal });
      const waited = container.wait({ signal }).catch((error: unknown) => error);
      await eventually(async () => proxy.openFlows > 0, 10_000, 'the long poll to be open');
      proxy.silenceAll();
      const error = await waited;
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect((error as Error).message).toMatch(/half-open/);
    });
  }, 90_000);

  it('a follow goes silent: dropped once its container has stopped, read again, every line once', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const container = (await driver.runContainer({ id: 'follow', image: 'busybox', command: sh(GATED) }, { signal })) as DockerContainer;
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal });
      await eventually(async () => stdout.text() === 'first\n', 20_000, 'the first line');
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      await execDirect(container.engineId, 'touch /tmp/go');
      await following;
      expect(stdout.text()).toBe('first\nsecond\n');
    });
  }, 90_000);

  it('a follow of an engine silent for good rejects with EngineUnavailableError', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const container = await driver.runContainer({ id: 'follow-gone', image: 'busybox', command: sh('echo first; sleep 600') }, { signal });
      const stdout = new CollectingWritable();
      const following = container.logs({ stdout, follow: true, signal }).catch((error: unknown) => error);
      await eventually(async () => stdout.text() === 'first\n', 20_000, 'the first line');
      proxy.silenceAll();
      expect(await following).toBeInstanceOf(EngineUnavailableError);
    });
  }, 90_000);

  it('exec: its stream goes silent and the command ends: StreamLost, no exit code passed off as a result', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const sandbox = (await driver.startSandbox({ id: 'exec', image: 'busybox' }, { signal })) as DockerSandbox;
      const stdout = new CollectingWritable();
      const executed = sandbox.exec(sh(GATED), { stdout, signal });
      await eventually(async () => stdout.text() === 'first\n', 20_000, 'the first line');
      expect(proxy.silenceOpen()).toBeGreaterThan(0);
      await execDirect(sandbox.engineId, 'touch /tmp/go');
      const status = await executed;
      expect(status).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
      expect(status.message).toMatch(/half-open/);
      // The next exec, on a fresh connection, works.
      expect(await sandbox.exec(sh('exit 3'), { signal })).toMatchObject({ exitCode: 3 });
    });
  }, 90_000);

  it('exec: an engine silent for good ends it with StreamLost', async () => {
    await withDriver(async (driver) => {
      const signal = AbortSignal.timeout(60_000);
      const sandbox = await driver.startSandbox({ id: 'exec-gone', image: 'busybox' }, { signal });
      const stdout = new CollectingWritable();
      const executed = sandbox.exec(sh('echo first; sleep 600'), { stdout, signal });
      await eventually(async () => stdout.text() === 'first\n', 20_000, 'the first line');
      proxy.silenceAll();
      expect(await executed).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
    });
  }, 90_000);
});
