import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { sandboxContainerName, taskContainerName } from '../../drivers/docker/naming.js';
import { containerSpec } from '../../drivers/docker/spec.js';
import { resolveOptions } from '../../drivers/k8s/options.js';
import { buildPod } from '../../drivers/k8s/pod-spec.js';
import { validateTask } from '../../src/validate.js';
import { LABELS } from '../../src/labels.js';
import { readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { DOCKER, docker, K8S, NATIVE, openDriver, randomId, sh } from './drivers.js';
import { tarOf } from '../support/tar.js';

/** Privileged is off unless a task asks for it: tasks, sandboxes and helpers, on every driver. */

const budget = (ms: number): AbortSignal => AbortSignal.timeout(ms);

/**
 * Starts a volume read and returns while its helper is up: the volume holds more than the
 * pipes buffer and the stream is not read. Release it with `release()`.
 */
async function withHelperUp(driver: Driver, ms: number): Promise<{ release(): void }> {
  const volume = await driver.createVolume(randomId('pv'), { signal: budget(ms) });
  await driver.copyToVolume!(volume, tarOf([{ name: 'big', content: Buffer.alloc(16 * 1024 * 1024) }]), { signal: budget(ms) });
  const stream = await driver.copyFromVolume!(volume, { signal: budget(ms) });
  stream.on('error', () => {});
  return { release: () => stream.destroy() };
}

describe('docker: privileged off by default', () => {
  // Copy helpers are created and never started (the engine's archive API reads their mounts): nothing runs in them.
  it('task and sandbox containers are not privileged and add no capabilities', async () => {
    const driver = openDriver(DOCKER);
    const id = randomId('priv');
    await driver.runContainer({ id, image: 'busybox', command: ['sleep', '30'] }, { signal: budget(30_000) });
    await driver.startSandbox!({ id, image: 'busybox' }, { signal: budget(30_000) });
    for (const name of [taskContainerName(driver.namespace, id), sandboxContainerName(driver.namespace, id)]) {
      const { HostConfig } = await docker.getContainer(name).inspect();
      expect(HostConfig.Privileged, name).toBe(false);
      expect(HostConfig.CapAdd ?? [], name).toEqual([]);
    }
  });

  it('privileged: true is what turns it on (the spec; this engine cannot run privileged containers)', () => {
    const spec = (privileged?: boolean) => containerSpec({ ...validateTask({ id: 'p', image: 'busybox', command: ['true'], privileged }), openStdin: false }, { name: 'p', namespace: 'ns', role: 'task', networkMode: undefined });
    expect(spec().HostConfig?.Privileged).toBe(false);
    expect(spec(true).HostConfig?.Privileged).toBe(true);
  });
});

describe('k8s: privileged off by default', () => {
  const api = (): CoreV1Api => {
    const config = new KubeConfig();
    config.loadFromFile(inject('kubeconfig'));
    return config.makeApiClient(CoreV1Api);
  };
  const unprivileged = (pod: V1Pod): void => {
    const name = pod.metadata?.name;
    expect(pod.spec?.hostNetwork ?? false, name).toBe(false);
    expect(pod.spec?.hostPID ?? false, name).toBe(false);
    expect(pod.spec?.hostIPC ?? false, name).toBe(false);
    expect(pod.spec?.automountServiceAccountToken, name).toBe(false);
    expect((pod.spec?.volumes ?? []).filter((v) => v.hostPath !== undefined), name).toEqual([]);
    for (const container of pod.spec?.containers ?? []) {
      expect(container.securityContext?.privileged ?? false, name).toBe(false);
      expect(container.securityContext?.allowPrivilegeEscalation ?? undefined, name).not.toBe(true);
      expect(container.securityContext?.capabilities?.add ?? [], name).toEqual([]);
    }
  };

  it('task, sandbox and helper pods are not privileged, share nothing with the node and mount no token', { timeout: 180_000 }, async () => {
    const driver = openDriver(K8S);
    await driver.runContainer({ id: randomId('priv'), image: 'busybox', command: ['sleep', '30'] }, { signal: budget(90_000) });
    await driver.startSandbox!({ id: randomId('privsb'), image: 'busybox' }, { signal: budget(90_000) });
    const helper = await withHelperUp(driver, 90_000);
    try {
      const pods = await api().listNamespacedPod({ namespace: 'default', labelSelector: `${LABELS.namespace}=${driver.namespace}` });
      expect(pods.items.map((p) => p.metadata?.labels?.[LABELS.role]).sort()).toEqual(['helper', 'sandbox', 'task']);
      for (const pod of pods.items) unprivileged(pod);
    } finally {
      helper.release();
    }
  });

  it('privileged: true is what turns it on (the pod spec; this engine cannot run privileged containers)', () => {
    const pod = (privileged?: boolean) => buildPod(validateTask({ id: 'p', image: 'busybox', command: ['true'], privileged }), { role: 'task', command: ['true'], stdin: false }, resolveOptions({ namespace: 'ns' }, 'default'));
    expect(pod().spec?.containers[0]?.securityContext?.privileged).toBeUndefined();
    expect(pod(true).spec?.containers[0]?.securityContext?.privileged).toBe(true);
  });
});

describe('native: never more than the calling user', () => {
  /** uid, gid and effective capabilities of this process, as `id` and /proc report them. */
  const ours = `${process.getuid!()} ${process.getgid!()} ${/CapEff:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]}\n`;
  const probe = sh('echo "$(id -u) $(id -g) $(sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status)"');

  it.each([false, true])('a task (privileged: %s) runs as the caller, with no capability the caller lacks', async (privileged) => {
    const driver = openDriver(NATIVE);
    const task = await driver.runContainer({ id: randomId('priv'), image: 'busybox', command: probe, privileged }, { signal: budget(30_000) });
    await task.wait({ signal: budget(30_000) });
    expect((await readLogs(task, { signal: budget(30_000) })).stdout).toBe(ours);
    expect(driver.capabilities.enforces.privileged).toBe(false);
  });
});
