import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/labels.js';
import { LOCAL_REGISTRY, REGISTRY_BUSYBOX } from '../infra/registry.js';
import type { LocalCluster } from '../k8s-server/cluster.js';
import { testNamespace } from '../setup/test-run.js';
import { clusterLeftovers, dockerLeftovers, EXAMPLE_TIMEOUT_MS, kubectl, ROOT, runExample, watchCreated } from './harness.js';

/** What every run of the example's workflow prints after its first line. */
const JOBS = [
  '[ci/setup] ⭐ Run Set up job',
  `[ci/setup]   | runner Linux ${machine()}, tool cache /opt/hostedtoolcache`,
  '[ci/setup] ✅ Success - Set up job',
  '[ci/setup] ⭐ Run Set up greeter',
  '[ci/setup]   | greeter 1.0.0: installed into the tool cache',
  '[ci/setup] ✅ Success - Set up greeter',
  '[ci/setup] 🏁 Job succeeded',
  '[ci/build] ⭐ Run Set up job',
  `[ci/build]   | runner Linux ${machine()}, tool cache /opt/hostedtoolcache`,
  '[ci/build] ✅ Success - Set up job',
  '[ci/build] ⭐ Run Fresh workspace',
  '[ci/build]   | workspace entries: 0',
  '[ci/build] ✅ Success - Fresh workspace',
  '[ci/build] ⭐ Run Greet',
  // The tool the setup job put into the cache volume, run by the build job in a pod of its own.
  '[ci/build]   | hello, world',
  '[ci/build] ✅ Success - Greet',
  '[ci/build] ⭐ Run Check',
  '[ci/build]   | checked 13 bytes in out',
  '[ci/build] ✅ Success - Check',
  '[ci/build] ⭐ Run Call the service',
  // A TCP server of the job's services, reached at localhost from the runner.
  '[ci/build]   | hello from the service',
  '[ci/build] ✅ Success - Call the service',
  '[ci/build] ⭐ Run Lint',
  '[ci/build]   ! warning: no linter configured',
  '[ci/build] ✅ Success - Lint',
  '[ci/build] 📜 greeter-api | listening on 8080',
  '[ci/build] 🏁 Job succeeded',
  '[ci] 🏁 workflow succeeded',
  '',
];

/**
 * examples/act-runner: a workflow's jobs on runner pods (sandboxes) sharing a tool cache volume,
 * each with a fresh workspace, set up before their steps, the build job with a service container
 * (a TCP server its steps reach at localhost); on Kubernetes the runner image pulled
 * from the local registry through an image pull Secret, and `runs-on` as the pods' nodeSelector.
 */
export function describeActRunner(cluster: () => LocalCluster): void {
  describe.concurrent('examples/act-runner', { timeout: EXAMPLE_TIMEOUT_MS }, () => {
    it('runs the workflow on docker: the tool cache shared between jobs, a fresh workspace each, nothing left', async () => {
      const namespace = testNamespace('ex-act');
      const run = await runExample('act-runner', ['--driver', 'docker', '--namespace', namespace]);
      expect(run.stderr).toBe('');
      expect(run.stdout.split('\n')).toEqual([`[ci] on docker, run ${namespace}, image busybox`, ...JOBS]);
      expect(run.code).toBe(0);
      expect(await dockerLeftovers(namespace)).toEqual([]);
    });

    it('runs the workflow on k8s: the runner image through an image pull Secret, runs-on as nodeSelector, a tool cache claim, nothing left', async () => {
      const admin = cluster().kubeconfigPath;
      const namespace = testNamespace('ex-act');
      const secret = `${namespace}-regcred`;
      const k8sNamespace = new KubeConfig();
      k8sNamespace.loadFromFile(admin);
      const where = k8sNamespace.getContextObject(k8sNamespace.getCurrentContext())?.namespace ?? 'default';
      const made = await kubectl(admin, ['-n', where, 'create', 'secret', 'docker-registry', secret, `--docker-server=${LOCAL_REGISTRY.host}`, `--docker-username=${LOCAL_REGISTRY.username}`, `--docker-password=${LOCAL_REGISTRY.password}`]);
      expect(made.stderr).toBe('');
      try {
        const args = ['--driver', 'k8s', '--namespace', namespace, '--image', REGISTRY_BUSYBOX, '--image-pull-secret', secret];
        const { result: run, pods } = await watchCreated(admin, where, () => runExample('act-runner', args, { KUBECONFIG: admin }));
        expect(run.stderr).toBe('');
        expect(run.stdout.split('\n')).toEqual([`[ci] on k8s, run ${namespace}, image ${REGISTRY_BUSYBOX}`, ...JOBS]);
        expect(run.code).toBe(0);
        const runners = pods.filter((pod) => pod.metadata?.labels?.[LABELS.namespace] === namespace && pod.metadata?.labels?.[LABELS.role] === 'sandbox');
        expect(runners).toHaveLength(2);
        for (const pod of runners) {
          expect(pod.spec?.nodeSelector).toEqual({ 'node-type': 'self-hosted', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
          expect(pod.spec?.imagePullSecrets).toEqual([{ name: secret }]);
          expect(pod.spec?.containers[0]).toMatchObject({ image: REGISTRY_BUSYBOX, imagePullPolicy: 'Always' });
          // The tool cache is the run's claim; the workspace an emptyDir of the pod's own.
          expect(pod.spec?.volumes?.map((v) => (v.persistentVolumeClaim !== undefined ? 'claim' : v.emptyDir !== undefined ? 'emptyDir' : v.name)).sort()).toEqual(['claim', 'emptyDir']);
        }
        // The build job's service is a sidecar of its runner pod, held until its port listens.
        const build = runners.find((pod) => (pod.spec?.initContainers ?? []).length > 0);
        expect(build?.spec?.initContainers).toEqual([expect.objectContaining({ name: 'greeter-api', image: REGISTRY_BUSYBOX, restartPolicy: 'Always', startupProbe: expect.objectContaining({ tcpSocket: { port: 8080 } }) })]);
        expect(await clusterLeftovers(admin, namespace)).toEqual([]);
      } finally {
        await kubectl(admin, ['-n', where, 'delete', 'secret', secret]);
      }
    });

    it('fails a job whose runs-on no node matches, skips the jobs that need it, and leaves nothing', async () => {
      const namespace = testNamespace('ex-act');
      const workflow = JSON.parse(readFileSync(join(ROOT, 'examples', 'act-runner', 'workflow.json'), 'utf8'));
      workflow.jobs.setup['runs-on'] = ['self-hosted', 'gpu'];
      const file = join(mkdtempSync(join(tmpdir(), 'act-runner-test-')), 'gpu.json');
      writeFileSync(file, JSON.stringify(workflow));
      const run = await runExample('act-runner', ['--driver', 'k8s', '--namespace', namespace, '--workflow', file, '--pod-timeout', '3'], { KUBECONFIG: cluster().kubeconfigPath });
      expect(run).toMatchObject({ code: 1, stderr: '' });
      const lines = run.stdout.split('\n');
      expect(lines.slice(2)).toEqual(['[ci/build] skipped: setup did not succeed', '[ci] 🏁 workflow failed', '']);
      expect(lines[1]).toMatch(/^\[ci\/setup\] ❌ no runner for runs-on \["self-hosted","gpu"\]: StartTimeoutError: .*node\(s\) didn't match Pod's node affinity\/selector/);
      expect(await clusterLeftovers(cluster().kubeconfigPath, namespace)).toEqual([]);
    });
  });
}
