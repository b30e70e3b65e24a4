import { afterEach, describe, expect, inject, it } from 'vitest';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import type { Driver } from '../../src/types.js';
import { createK8sDriver, type K8sDriver, type K8sDriverOptions } from '../../drivers/k8s/index.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * Terminals on the k8s driver beyond the conformance cases (test/conformance/tty.ts):
 * `execInWorkload` with `tty`, and a terminal task's log found again by `getContainer`.
 */

const kubeconfig = inject('kubeconfig');
const drivers: Driver[] = [];
const TIMEOUT = 90_000;

function newDriver(options: Partial<K8sDriverOptions> = {}): K8sDriver {
  const driver = createK8sDriver({ kubeconfig, namespace: testNamespace('k8tty'), ...options }) as K8sDriver;
  drivers.push(driver);
  return driver;
}

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

describe('k8s terminals', () => {
  it('execInWorkload with tty: a terminal of the size given, stderr on it, the exit code; the command stays argv', async () => {
    const driver = newDriver();
    const sandbox = await driver.startSandbox({ id: 'workload-tty', image: 'busybox' });
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const status = await driver.execInWorkload({
      labelSelector: `drivetrain.dev/namespace=${driver.namespace},drivetrain.dev/role=sandbox`,
      command: ['sh', '-c', 'tty; stty size; echo "$1" >&2; exit 3', 'sh', 'a $b'],
      tty: { columns: 77, rows: 19 },
      stdout,
      stderr,
    });
    expect(status).toMatchObject({ done: true, exitCode: 3 });
    expect(stdout.text()).toMatch(/^\/dev\/pts\/\d+\r\n19 77\r\na \$b\r\n$/);
    expect(stderr.text()).toBe('');
    await sandbox.cleanup();
  }, TIMEOUT);

  it('a terminal task found again by getContainer (pod and job mode) reads its log as the one terminal stream', async () => {
    for (const mode of ['pod', 'job'] as const) {
      const namespace = testNamespace('k8tty');
      const first = newDriver({ namespace, mode });
      const container = await first.runContainer({ id: 'tty-task', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2'], tty: { columns: 50, rows: 10 } });
      expect(await container.wait()).toMatchObject({ exitCode: 0 });
      const again = await newDriver({ namespace, mode }).getContainer('tty-task');
      const logs = await readLogs(again);
      expect({ mode, ...logs }).toEqual({ mode, streams: 'combined', stdout: 'out\r\nerr\r\n', stderr: '' });
    }
  }, TIMEOUT);
});
