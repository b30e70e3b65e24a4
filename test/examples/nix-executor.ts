import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_REGISTRY } from '../infra/registry.js';
import { dockerSaveArchive, gzip, registryRequest, uniqueImage } from '../publish/fixtures.js';
import { testNamespace } from '../setup/test-run.js';
import { clusterLeftovers, dockerLeftovers, EXAMPLE_TIMEOUT_MS, runExample } from './harness.js';

/** The executor image as Nix's dockerTools builds it: a gzip `docker save` archive, here busybox with its own build stamp. */
let archive: Promise<{ path: string; id: string; build: string }> | undefined;
function executorArchive(): Promise<{ path: string; id: string; build: string }> {
  archive ??= (async () => {
    const build = randomBytes(4).toString('hex');
    const image = await uniqueImage({ env: [`EXECUTOR_BUILD=${build}`] });
    const path = join(mkdtempSync(join(tmpdir(), 'nix-executor-image-')), 'executor.tar.gz');
    writeFileSync(path, gzip(await dockerSaveArchive([{ image, tags: [] }])));
    return { path, id: image.id, build };
  })();
  return archive;
}

const CREDENTIALS = { REGISTRY_USERNAME: LOCAL_REGISTRY.username, REGISTRY_PASSWORD: LOCAL_REGISTRY.password };

/**
 * examples/nix-executor: the executor image loaded from its archive, tagged by content and
 * pushed with credentials from the environment; jobs in one pod (each in its own copy of the
 * workspace) or in a pod each; an artifact saved from one job and restored into another; the
 * pod-ready timeout and a refused push as the engine sees them; nothing left behind.
 */
export function describeNixExecutor(kubeconfig: () => string): void {
  describe.concurrent('examples/nix-executor', { timeout: EXAMPLE_TIMEOUT_MS }, () => {
    for (const driver of ['docker', 'k8s'] as const) {
      for (const mode of ['shared', 'dedicated'] as const) {
        it(`runs a workflow in ${mode} mode on ${driver}: parallel jobs in their own directories, an artifact passed on, nothing left`, async () => {
          const { path, id, build } = await executorArchive();
          const namespace = testNamespace(`ex-nix-${mode[0]}`);
          const artifacts = mkdtempSync(join(tmpdir(), 'nix-executor-test-'));
          const args = ['--image-archive', path, '--registry', LOCAL_REGISTRY.host, '--mode', mode, '--driver', driver, '--workflow', namespace, '--artifacts', artifacts];
          const run = await runExample('nix-executor', args, { ...CREDENTIALS, KUBECONFIG: kubeconfig() });
          const tag = id.slice('sha256:'.length, 'sha256:'.length + 12);
          expect(run.stderr).toBe('');
          expect(run.stdout.split('\n')).toEqual([
            `workflow ${namespace}: ${mode} mode on ${driver}, executor image ${LOCAL_REGISTRY.host}/nixactions-executor:${tag}`,
            'job build: exit 0',
            `  | job build in /workspace/jobs/build, executor build ${build}`,
            'job lint: exit 0',
            '  | job lint in /workspace/jobs/lint',
            '  ! lint: 0 warnings',
            'job test: exit 0',
            '  | job test: the artifact matches this copy of the repository',
            '  | data.bin: 6 bytes',
            // Shared: every job's directory in the one pod; dedicated: the job's own pod holds only its own.
            `  | jobs in this pod: ${mode === 'shared' ? 'build lint test' : 'test'}`,
            `artifact out of build: saved to ${join(artifacts, 'build')}, restored into test`,
            'workflow passed',
            '',
          ]);
          expect(run.code).toBe(0);
          expect(readFileSync(join(artifacts, 'build', 'out', 'hello.txt'), 'utf8')).toBe('hello from the repository\n');
          expect(readFileSync(join(artifacts, 'build', 'out', 'data.bin'))).toEqual(Buffer.from('bin\0\xff\n', 'latin1'));
          expect((await registryRequest(`/v2/nixactions-executor/manifests/${tag}`, { method: 'HEAD' })).status).toBe(200);
          expect(driver === 'docker' ? await dockerLeftovers(namespace) : await clusterLeftovers(kubeconfig(), namespace)).toEqual([]);
        });
      }
    }

    it('fails a workflow whose pod is not ready within the pod-ready timeout, and leaves nothing (pull secret included)', async () => {
      const namespace = testNamespace('ex-nix-t');
      const args = ['--image-archive', (await executorArchive()).path, '--registry', LOCAL_REGISTRY.host, '--driver', 'k8s', '--workflow', namespace, '--pod-ready-timeout', '0.001'];
      const run = await runExample('nix-executor', args, { ...CREDENTIALS, KUBECONFIG: kubeconfig() });
      expect(run.stderr).toMatch(/^nix-executor: executor pod "workspace" not ready within 0\.001 s: .+\n$/);
      expect(run).toMatchObject({ code: 1, stdout: 'workflow failed\n' });
      expect(await clusterLeftovers(kubeconfig(), namespace)).toEqual([]);
    });

    it('names a missing credential variable, and fails a push the registry refuses as Unauthorized', async () => {
      const args = (namespace: string) => ['--image-archive', path, '--registry', LOCAL_REGISTRY.host, '--driver', 'docker', '--workflow', namespace];
      const { path } = await executorArchive();
      const unset = await runExample('nix-executor', args(testNamespace('ex-nix-c')), { REGISTRY_USERNAME: '', REGISTRY_PASSWORD: 'x' });
      expect(unset).toEqual({ code: 1, stdout: 'workflow failed\n', stderr: 'nix-executor: registry credentials: the environment variable REGISTRY_USERNAME is not set\n' });
      const refused = await runExample('nix-executor', args(testNamespace('ex-nix-c')), { REGISTRY_USERNAME: LOCAL_REGISTRY.username, REGISTRY_PASSWORD: 'wrong' });
      expect(refused.stderr).toMatch(new RegExp(`^nix-executor: RegistryError: registry ${LOCAL_REGISTRY.host.replace(/\./g, '\\.')}: .+ \\(check REGISTRY_USERNAME and REGISTRY_PASSWORD\\)\\n$`));
      expect(refused).toMatchObject({ code: 1, stdout: 'workflow failed\n' });
    });
  });
}
