import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createK8sDriver, type K8sDriver } from '../../drivers/k8s/index.js';
import { CollectingWritable } from '../../src/logs.js';
import { testNamespace } from '../setup/test-run.js';
import { testProfile } from './k8s-profile.js';

// Kubernetes 1.28: no pods/log `stream` field; exec/attach up to v4.channel.k8s.io (no stdin close frame).
const cluster = await testProfile('1.28', { kubeVersion: '1.28' });

const drivers: K8sDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

describe('k8s 1.28: exec with input, without the v5 stdin close frame', () => {
  it('execInWorkload and sandbox exec get all their input, give all their output and their own exit code', async () => {
    const driver = createK8sDriver({ namespace: testNamespace('k28'), kubeconfig: cluster.kubeconfigPath, labels: { app: 'old-server' } }) as K8sDriver;
    drivers.push(driver);
    const sandbox = await driver.startSandbox({ id: 'workload', image: 'busybox' });
    const input = randomBytes(3 * 1024 * 1024 + 17);
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const status = await driver.execInWorkload({
      labelSelector: `app=old-server,drivetrain.dev/namespace=${driver.namespace}`,
      command: ['sh', '-c', 'md5sum; echo done >&2; exit 3'],
      stdin: input,
      stdout,
      stderr,
      signal: AbortSignal.timeout(60_000),
    });
    expect(status).toMatchObject({ done: true, exitCode: 3 });
    expect(stdout.text().split(' ')[0]).toBe(createHash('md5').update(input).digest('hex'));
    expect(stderr.text()).toBe('done\n');
    // The whole input, byte for byte, with the end where it is: `cat` echoes it and ends by itself.
    const echoed = new CollectingWritable();
    expect(await sandbox.exec(['cat'], { stdin: input.subarray(0, 200_000), stdout: echoed, signal: AbortSignal.timeout(60_000) })).toMatchObject({ done: true, exitCode: 0 });
    expect(echoed.buffer().equals(input.subarray(0, 200_000))).toBe(true);
  }, 120_000);
});
