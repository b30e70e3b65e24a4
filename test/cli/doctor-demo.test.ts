import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS } from '../../drivers/k8s/doctor.js';
import { runCli } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'drivetrain-doctor-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A kubeconfig of one cluster at `server` (plain HTTP allowed), written into the scratch directory. */
function kubeconfigFor(server: string, name: string): string {
  const file = join(scratch, name);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain doctor and demo', { timeout: 150_000 }, () => {
  it('doctor reports the Docker engine, its version and the test image', async () => {
    const result = await runCli(['doctor', '--driver', 'docker']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {3}engine: answers/m);
    expect(result.stdout).toMatch(/^ok {3}version: Docker \d+\.\d+/m);
    expect(result.stdout).toMatch(/^ok {3}test image: busybox:latest present/m);
  });

  it('doctor fails (exit 1) when no engine answers', async () => {
    const result = await runCli(['doctor'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL engine: no answer/m);
  });

  it('doctor --driver k8s without a reachable cluster prints one line naming the server', async () => {
    const result = await runCli(['doctor', '--driver', 'k8s'], { env: { KUBECONFIG: kubeconfigFor('https://127.0.0.1:1', 'unreachable') } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL reachability: GET \/version failed: .*\(server https:\/\/127\.0\.0\.1:1, context ctx, namespace default\)\n$/);
  });

  it('doctor --driver k8s without any kubeconfig (outside a pod) prints one line saying where one is looked for', async () => {
    const home = join(scratch, 'empty-home');
    const result = await runCli(['doctor', '--driver', 'k8s'], { env: { KUBECONFIG: '', HOME: home, USERPROFILE: home, KUBERNETES_SERVICE_HOST: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("FAIL kubeconfig: invalid kubeconfig: expected a kubeconfig: KUBECONFIG, ~/.kube/config, or a pod's service account (KUBERNETES_SERVICE_HOST)\n");
  });

  it('doctor --driver k8s says once that permissions cannot be verified on a server without SelfSubjectAccessReview', async () => {
    // An API server that answers /version and nothing else: every access review is a 404.
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/version') return void response.end(JSON.stringify({ major: '1', minor: '30', gitVersion: 'v1.30.0' }));
      response.statusCode = 404;
      response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runCli(['doctor', '--driver', 'k8s'], { env: { KUBECONFIG: kubeconfigFor(url, 'no-reviews') } });
      expect(result.code).toBe(0);
      const permissions = REQUIRED_PERMISSIONS.reduce((count, [, , , verbs]) => count + verbs.length, 0);
      const unverified = result.stdout.split('\n').filter((line) => line.includes('cannot verify'));
      expect(unverified).toHaveLength(1);
      expect(unverified[0]).toMatch(new RegExp(`^\\?\\? {3}${permissions} checks \\(create pods … .+\\): cannot verify: the server does not offer SelfSubjectAccessReview$`));
      expect(result.stdout).toMatch(/^ok {3}reachability: API server v1\.30\.0$/m);
    } finally {
      server.close();
    }
  });

  it('demo runs echo hello through docker when an engine answers', async () => {
    const result = await runCli(['demo']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('driver: docker\noutput: hello\nexit code: 0\n');
  });

  it('demo falls back to the native driver without an engine', async () => {
    const result = await runCli(['demo'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('driver: native\noutput: hello\nexit code: 0\n');
  });
});
