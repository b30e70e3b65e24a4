import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { taskObjectName } from '../../drivers/k8s/naming.js';
import { readLogs } from '../../src/logs.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';

const kubeconfig = inject('kubeconfig');
const config = new KubeConfig();
config.loadFromFile(kubeconfig);
const core = config.makeApiClient(CoreV1Api);
const batch = config.makeApiClient(BatchV1Api);
const k8sNamespace = config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
const drivers: K8sDriver[] = [];
const TIMEOUT = 90_000;

function newDriver(options: Partial<K8sDriverOptions> = {}): K8sDriver {
  const driver = createK8sDriver({ kubeconfig, ...options, namespace: testNamespace('k8s-svc') }) as K8sDriver;
  drivers.push(driver);
  return driver;
}

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

/** What the k8s driver makes of a task's services: sidecars of its pod, a Job that completes with them. */
describe('k8s driver: services', () => {
  it('a service is a sidecar of the pod: restartPolicy Always, the readiness check as its startup probe, $ escaped in command and env but not in the probe', async () => {
    const driver = newDriver();
    const services = [{ name: 'db', image: 'busybox', command: ['sh', '-c', 'echo "$(X) $$"; exec busybox nc -ll -p 7000 -e echo ok'], env: { V: '$(X)' }, ready: { command: ['sh', '-c', 'test -n "$$"'], timeoutMs: 20_000 } }];
    const container = await driver.runContainer({ id: 'spec', image: 'busybox', command: ['sh', '-c', 'busybox nc 127.0.0.1 7000 </dev/null'], services });
    const pod = await core.readNamespacedPod({ name: taskObjectName(driver.namespace, 'spec'), namespace: k8sNamespace });
    expect(pod.spec?.initContainers).toEqual([
      expect.objectContaining({
        name: 'db',
        image: 'busybox',
        restartPolicy: 'Always',
        command: ['sh', '-c', 'echo "$$(X) $$$$"; exec busybox nc -ll -p 7000 -e echo ok'],
        env: [{ name: 'V', value: '$$(X)' }],
        startupProbe: expect.objectContaining({ exec: { command: ['sh', '-c', 'test -n "$$"'] }, periodSeconds: 1, timeoutSeconds: 10 }),
      }),
    ]);
    expect(await container.wait()).toMatchObject({ done: true, exitCode: 0 });
    expect((await readLogs(container)).stdout).toBe('ok\n');
  }, TIMEOUT);

  it('in job mode the Job completes once the task ends (the kubelet stops the sidecar), and the service log is still readable', async () => {
    const driver = newDriver({ mode: 'job' });
    const services = [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'echo up; exec busybox nc -ll -p 7001 -e echo hi'], ready: { tcpPort: 7001, timeoutMs: 20_000 } }];
    const container = await driver.runContainer({ id: 'job', image: 'busybox', command: ['sh', '-c', 'busybox nc 127.0.0.1 7001 </dev/null'], services });
    expect(await container.wait()).toMatchObject({ done: true, exitCode: 0 });
    expect((await readLogs(container)).stdout).toBe('hi\n');
    expect((await readLogs(container, { service: 'web' })).stdout).toBe('up\n');
    // The Job controller counts the pod once it has Succeeded: after the sidecar was stopped.
    const name = taskObjectName(driver.namespace, 'job');
    await eventually(async () => (await batch.readNamespacedJob({ name, namespace: k8sNamespace })).status?.succeeded === 1, 60_000, 'the Job to count its pod as succeeded');
  }, TIMEOUT);
});
