import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { DriverClosedError, EngineUnavailableError } from '../../src/errors.js';
import type { Container, Driver } from '../../src/types.js';
import { ALL_DRIVERS, K8S, openDriver, randomId, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';

describe.each(ALL_DRIVERS)('abort at each stage on $name', (under: DriverUnderTest) => {
  for (const afterMs of [0, 20, 150, 600]) {
    it(`runContainer aborted after ${afterMs} ms: rejects, and no task is left (by label)`, { timeout: 120_000 }, async () => {
      const namespace = testNamespace('rab');
      const driver = openDriver(under, namespace);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('caller gave up')), afterMs).unref();
      const outcome = await driver.runContainer({ id: randomId('abort'), image: 'busybox', command: ['sleep', '300'] }, { signal: controller.signal }).then(
        (container): Container | Error => container,
        (error: unknown): Container | Error => (error instanceof Error ? error : new Error(String(error))),
      );
      if (outcome instanceof Error) {
        // Aborted before it was running: whatever was half-created is gone, without close().
        await eventually(async () => (await under.countTasks(namespace)) === 0, under.budgetMs, 'the aborted task to be removed');
      } else {
        // It started before the abort fired: a complete, running task, and still removable.
        expect((await outcome.status({ signal: AbortSignal.timeout(under.budgetMs) })).done).toBe(false);
        await outcome.cleanup({ signal: AbortSignal.timeout(under.budgetMs) });
        expect(await under.countTasks(namespace)).toBe(0);
      }
    });
  }

  it('copyToVolume aborted while its tar stream is still open rejects and leaves no helper', { timeout: 120_000 }, async () => {
    const namespace = testNamespace('rab');
    const driver = openDriver(under, namespace);
    const volume = await driver.createVolume(randomId('av'), { signal: AbortSignal.timeout(under.budgetMs) });
    const tar = new PassThrough(); // never ends: the copy can only end by the abort
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('copy cancelled')), 300).unref();
    await expect(driver.copyToVolume!(volume, tar, { signal: controller.signal })).rejects.toThrow();
    await eventually(async () => (await under.countTasks(namespace)) === 0, under.budgetMs, 'the copy helper to be removed');
  });

  it('an operation whose signal aborted with a plain Error rejects with exactly that reason, nothing made', { timeout: 60_000 }, async () => {
    const namespace = testNamespace('rab');
    const driver = openDriver(under, namespace);
    const reason = new Error('never mind');
    const signal = AbortSignal.abort(reason);
    const task = { id: randomId('reason'), image: 'busybox', command: ['true'] };
    // The caller's own reason, not wrapped as an engine error: callers compare it to tell their abort from a failure.
    await expect(driver.runContainer(task, { signal })).rejects.toBe(reason);
    await expect(driver.createVolume(randomId('rv'), { signal })).rejects.toBe(reason);
    await expect(driver.getContainer(task.id, { signal })).rejects.toBe(reason);
    expect(await under.countTasks(namespace)).toBe(0);
  });

  // An aborted close() is not remembered: the same instance's next close() with a live signal reaps
  // (docs/reliability.md, bug 5). k8s has a fuller case below: 'close after an aborted close'.
  it('close with an already-aborted signal settles at once; a later close() of the same instance removes everything', { timeout: 120_000 }, async () => {
    const namespace = testNamespace('rab');
    const driver = under.create(namespace);
    await driver.runContainer({ id: randomId('live'), image: 'busybox', command: ['sleep', '300'] }, { signal: AbortSignal.timeout(under.budgetMs) });
    const started = Date.now();
    await expect(driver.close({ signal: AbortSignal.abort(new Error('no time')) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    await driver.close({ signal: AbortSignal.timeout(under.budgetMs) });
    expect(await under.countTasks(namespace)).toBe(0);
  });
});

describe('close after an aborted close on k8s', () => {
  it('a later close with a live signal on the same instance reaps the namespace', { timeout: 120_000 }, async () => {
    const namespace = testNamespace('rab');
    const driver = K8S.create(namespace);
    await driver.runContainer({ id: randomId('live'), image: 'busybox', command: ['sleep', '300'] }, { signal: AbortSignal.timeout(K8S.budgetMs) });
    await expect(driver.close({ signal: AbortSignal.abort(new Error('no time')) })).rejects.toThrow();
    expect(await K8S.countTasks(namespace)).toBe(1);
    await driver.close({ signal: AbortSignal.timeout(K8S.budgetMs) });
    expect(await K8S.countTasks(namespace)).toBe(0);
    await expect(driver.runContainer({ id: randomId('late'), image: 'busybox', command: ['true'] })).rejects.toBeInstanceOf(DriverClosedError);
  });
});

describe('engines that cannot be reached', () => {
  it('docker at a socket that does not exist: runContainer and close reject with EngineUnavailableError within 15 s', async () => {
    const driver: Driver = createDockerDriver({ namespace: testNamespace('run'), docker: new Dockerode({ socketPath: '/nonexistent.sock' }) });
    const started = Date.now();
    await expect(driver.runContainer({ id: 'x', image: 'busybox', command: ['true'] }, { signal: AbortSignal.timeout(15_000) })).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(driver.close({ signal: AbortSignal.timeout(15_000) })).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('k8s with a kubeconfig pointing at a closed port on 127.0.0.1: close rejects with EngineUnavailableError naming the refused connection within 30 s', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'drivetrain-rel-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]',
        'current-context: x',
      ].join('\n'),
    );
    const driver = createK8sDriver({ namespace: testNamespace('run'), kubeconfig, retry: { retries: 1 } } as Parameters<typeof createK8sDriver>[0]) as Driver;
    const started = Date.now();
    const closing = driver.close({ signal: AbortSignal.timeout(30_000) });
    await expect(closing).rejects.toBeInstanceOf(EngineUnavailableError);
    // fetch says only "fetch failed"; the reason is on its cause and must reach the message.
    await expect(closing).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 45_000);
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

