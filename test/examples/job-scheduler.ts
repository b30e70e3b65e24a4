import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { LocalCluster } from '../k8s-server/cluster.js';
import { testNamespace } from '../setup/test-run.js';
import { clusterLeftovers, EXAMPLE_TIMEOUT_MS, kubectl, ROOT, runExample, watchCreated } from './harness.js';

/**
 * examples/job-scheduler: attempts run as Kubernetes Jobs by a scheduler whose service account
 * holds only the Role of the example's rbac.yaml; tokens injected from a Secret it cannot read;
 * each attempt's logs kept as an artifact; a retry submitted again after a restart adopting its Job.
 */
export function describeJobScheduler(cluster: () => LocalCluster): void {
  describe.concurrent('examples/job-scheduler', { timeout: EXAMPLE_TIMEOUT_MS }, () => {
    it('runs attempts as Jobs under the minimal Role, with tokens by secretKeyRef, logs as artifacts, a re-submission adopting its Job, and leaves nothing', async () => {
      const admin = cluster().kubeconfigPath;
      const k8sNamespace = testNamespace('ex-jobs');
      const namespace = testNamespace('ex-jobs');
      const artifacts = mkdtempSync(join(tmpdir(), 'job-scheduler-test-'));
      const token = randomBytes(16).toString('hex');
      const kc = new KubeConfig();
      kc.loadFromFile(admin);
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: k8sNamespace } } });
      try {
        await core.createNamespacedSecret({ namespace: k8sNamespace, body: { metadata: { name: 'leviathan-secrets' }, stringData: { 'control-plane-token': token, 'github-token': 'ghp_0123456789' } } });
        const applied = await kubectl(admin, ['-n', k8sNamespace, 'apply', '--validate=false', '-f', join(ROOT, 'examples', 'job-scheduler', 'rbac.yaml')]);
        expect(applied.stderr).toBe('');
        const scheduler = cluster().kubeconfigFor(`system:serviceaccount:${k8sNamespace}:leviathan-scheduler`);
        // The Role gives no access to Secrets: the tokens reach the workers without passing through the scheduler.
        expect((await kubectl(scheduler, ['-n', k8sNamespace, 'get', 'secret', 'leviathan-secrets'])).stderr).toMatch(/forbidden/);

        const args = ['--namespace', namespace, '--kubernetes-namespace', k8sNamespace, '--artifacts', artifacts];
        // The Jobs the pass will submit, rendered by the driver: each Job created below holds its rendered spec.
        const dryRun = await runExample('job-scheduler', [...args, '--dry-run'], { KUBECONFIG: scheduler });
        expect(dryRun).toMatchObject({ code: 0, stderr: '' });
        const rendered = new Map(dryRun.stdout.trim().split('\n').map((line) => JSON.parse(line) as V1Job).map((spec) => [spec.metadata?.name, spec]));
        const { result: run, jobs, pods } = await watchCreated(admin, k8sNamespace, () => runExample('job-scheduler', args, { KUBECONFIG: scheduler }));
        expect(run.stderr).toBe('');
        const job = (attempt: string) => `dt-${namespace}--${attempt}`;
        const collected = (attempt: string) => `logs.collected ${join(artifacts, attempt, 'stdout')}, ${join(artifacts, attempt, 'stderr')}`;
        expect(run.stdout.split('\n')).toEqual([
          `scheduler ${namespace}: 2 attempts of target radix`,
          'attempt.created attempt-add-tests-1 (task add-tests)',
          `job.submitted ${job('attempt-add-tests-1')}`,
          collected('attempt-add-tests-1'),
          'attempt.succeeded exit 0',
          'attempt.created attempt-fix-lint-1 (task fix-lint)',
          `job.submitted ${job('attempt-fix-lint-1')}`,
          collected('attempt-fix-lint-1'),
          'attempt.failed exit 3 (Error)',
          'scheduler restarted after submitting attempt-fix-lint-2',
          'attempt.created attempt-fix-lint-2 (task fix-lint)',
          `job.submitted ${job('attempt-fix-lint-2')}`,
          collected('attempt-fix-lint-2'),
          'attempt.succeeded exit 0',
          '',
        ]);
        expect(run.code).toBe(0);

        // The artifacts: each worker's output, byte for byte (its run ID aside), stderr apart.
        const digest = createHash('sha256').update(token).digest('hex').slice(0, 12);
        const worker = (attempt: string, task: string, last: string[]) => [
          `attempt.started ${attempt} (task ${task}, target radix)`,
          'clone https://git.example/radix.git at main',
          `control plane http://leviathan-api:8000, token sha256:${digest}, github token 14 bytes`,
          expect.stringMatching(/^run [0-9a-f-]{36}$/),
          ...last,
          '',
        ];
        const artifact = (attempt: string, stream: string) => readFileSync(join(artifacts, attempt, stream), 'utf8');
        expect(artifact('attempt-add-tests-1', 'stdout').split('\n')).toEqual(worker('attempt-add-tests-1', 'add-tests', ['tests: 12 passed']));
        expect(artifact('attempt-fix-lint-1', 'stdout').split('\n')).toEqual(worker('attempt-fix-lint-1', 'fix-lint', []));
        expect(artifact('attempt-fix-lint-1', 'stderr')).toBe('lint: 2 errors\n');
        expect(artifact('attempt-fix-lint-2', 'stdout').split('\n')).toEqual(worker('attempt-fix-lint-2', 'fix-lint', ['lint: clean']));

        // One Job per attempt (the re-submitted one included) and one pod per Job: nothing ran twice.
        expect(jobs.map((j) => j.metadata?.name).sort()).toEqual(['attempt-add-tests-1', 'attempt-fix-lint-1', 'attempt-fix-lint-2'].map(job));
        expect(pods.map((p) => p.metadata?.labels?.['job-name']).sort()).toEqual(['attempt-add-tests-1', 'attempt-fix-lint-1', 'attempt-fix-lint-2'].map(job));
        expect([...rendered.keys()].sort()).toEqual(jobs.map((j) => j.metadata?.name).sort());
        for (const each of jobs) {
          expect(each).toMatchObject(rendered.get(each.metadata?.name) as V1Job);
          expect(each.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 86_400 });
          const env = each.spec?.template.spec?.containers[0]?.env ?? [];
          // The Job holds the Secret's name and key, never its value.
          expect(env.filter((e) => e.name.endsWith('_TOKEN'))).toEqual([
            { name: 'CONTROL_PLANE_TOKEN', valueFrom: { secretKeyRef: { name: 'leviathan-secrets', key: 'control-plane-token' } } },
            { name: 'GITHUB_TOKEN', valueFrom: { secretKeyRef: { name: 'leviathan-secrets', key: 'github-token' } } },
          ]);
          expect(JSON.stringify(each)).not.toContain(token);
        }
        expect(await clusterLeftovers(admin, namespace)).toEqual([]);
      } finally {
        await core.deleteNamespace({ name: k8sNamespace });
      }
    });
  });
}
