import { describe, expect, inject, it } from 'vitest';
import { runCli, testNamespace } from './helpers.js';

// The project's local Kubernetes API server, started by the global setup.
const env = { KUBECONFIG: inject('kubeconfig') };

describe('drivetrain with the k8s driver (local API server)', () => {
  it('run exits with the task code and keeps the streams apart', async () => {
    const result = await runCli(['run', '--driver', 'k8s', '--namespace', testNamespace(), 'busybox', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 4'], {
      env,
      deadlineMs: 90_000,
    });
    expect(result.stderr).toBe('oops\n');
    expect(result).toMatchObject({ code: 4, stdout: 'hi\n' });
  }, 100_000);

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
});
