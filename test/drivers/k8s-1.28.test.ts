import { expect, it } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { ContainerNotFoundError, UnsupportedCapabilityError } from '../../src/errors.js';
import { testNamespace } from '../setup/test-run.js';
import { testProfile } from './k8s-profile.js';

// Kubernetes 1.28: no pods/log `stream` field; exec/attach up to v4.channel.k8s.io (no stdin
// close frame). Exec with input on 1.28 and 1.29 in detail: test/k8s/exec-input-profiles.test.ts.
// Terminals too: their input and sizes go over v4 here, v5 on the shared cluster.
const cluster = await testProfile('1.28', { kubeVersion: '1.28' }, ['tty']);

// No sidecar containers (SidecarContainers alpha, off): the API server would drop a sidecar's
// restartPolicy and refuse its probe, so services are refused before anything is made.
it('k8s 1.28: a task or sandbox with services is refused with UnsupportedCapabilityError, nothing created', async () => {
  const driver = createK8sDriver({ namespace: testNamespace('cs'), kubeconfig: cluster.kubeconfigPath });
  try {
    const services = [{ name: 'db', image: 'busybox', command: ['sleep', '60'], ready: { tcpPort: 5432 } }];
    const error = await driver.runContainer({ id: 'with-db', image: 'busybox', command: ['true'], services }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedCapabilityError);
    expect(error).toMatchObject({ capability: 'services', driver: 'k8s' });
    expect((error as Error).message).toContain('SidecarContainers');
    await expect(driver.startSandbox({ id: 'box', image: 'busybox', services })).rejects.toBeInstanceOf(UnsupportedCapabilityError);
    await expect(driver.getContainer('with-db')).rejects.toBeInstanceOf(ContainerNotFoundError);
    // Tasks without services run as ever.
    const plain = await driver.runContainer({ id: 'plain', image: 'busybox', command: ['true'] });
    expect(await plain.wait()).toMatchObject({ done: true, exitCode: 0 });
  } finally {
    await driver.close();
  }
});
