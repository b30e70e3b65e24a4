import { describe, expect, inject, it } from 'vitest';
import { ContainerNotFoundError, createDriver } from '../../src/index.js';
import { runCli } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

// The project's local Kubernetes API server, started by the global setup.
const env = { KUBECONFIG: inject('kubeconfig') };

describe('drivetrain with the k8s driver (local API server)', { timeout: 150_000 }, () => {
  it('run exits with the task code and keeps the streams apart', async () => {
    const result = await runCli(['run', '--driver', 'k8s', '--namespace', testNamespace('cli'), 'busybox', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 4'], {
      env,
      deadlineMs: 90_000,
    });
    expect(result.stderr).toBe('oops\n');
    expect(result).toMatchObject({ code: 4, stdout: 'hi\n' });
  }, 100_000);

  it('run prints why the task waits, and gives up after --pull-timeout / --start-timeout', async () => {
    const pull = await runCli(['run', '--driver', 'k8s', '--namespace', testNamespace('cli'), '--id', 'typo', '--pull-timeout', '2', 'drivetrain-missing/typo:1', '--', 'true'], { env, deadlineMs: 90_000 });
    expect(pull.code).toBe(125);
    expect(pull.stderr).toMatch(/^drivetrain: waiting for task "typo" to start: (ErrImagePull|ImagePullBackOff): /m);
    expect(pull.stderr).toMatch(/image "drivetrain-missing\/typo:1"/);
    const start = await runCli(['run', '--driver', 'k8s', '--namespace', testNamespace('cli'), '--start-timeout', '0.001', 'busybox', '--', 'true'], { env, deadlineMs: 90_000 });
    expect(start.code).toBe(125);
    expect(start.stderr).toMatch(/within 1 ms/);
  }, 120_000);

  it('a flag value the driver refuses is a usage error naming the flag (exit 2)', async () => {
    const result = await runCli(['run', '--driver', 'k8s', '--namespace', testNamespace('cli'), '-u', 'nobody', 'busybox', '--', 'true'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^drivetrain: invalid -u\/--user "nobody": expected .*numeric/);
  });

  it('doctor prints the driver report and exits 0', async () => {
    const result = await runCli(['doctor', '--driver', 'k8s'], { env });
    expect(result.stdout).toMatch(/^ok {3}reachability: API server/m);
    expect(result.code).toBe(0);
  });

  it('doctor exits 1 when the kubeconfig cannot be loaded', async () => {
    const result = await runCli(['doctor', '--driver', 'k8s'], { env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL kubeconfig: /m);
  });

  it('cleanup removes a running leftover of the namespace', async () => {
    const namespace = testNamespace('cli');
    const crashed = await createDriver('k8s', { namespace, kubeconfig: env.KUBECONFIG });
    try {
      await crashed.runContainer({ id: 'leftover', image: 'busybox', command: ['sleep', '30'] });
      const result = await runCli(['cleanup', '--driver', 'k8s', '--namespace', namespace], { env, deadlineMs: 90_000 });
      expect(result.code).toBe(0);
      const fresh = await createDriver('k8s', { namespace, kubeconfig: env.KUBECONFIG });
      await expect(fresh.getContainer('leftover')).rejects.toBeInstanceOf(ContainerNotFoundError);
      await fresh.close();
    } finally {
      await crashed.close();
    }
  }, 120_000);
});
