// One scheduler pass running attempts as Kubernetes Jobs (see README.md for the flags and the Secret).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomNamespace } from 'drivetrain';
import { K8sJobExecutor, type Attempt, type ExecutorConfig } from './executor.ts';

const { values } = parseArgs({
  options: {
    namespace: { type: 'string', default: randomNamespace() },
    'kubernetes-namespace': { type: 'string' },
    secret: { type: 'string', default: 'leviathan-secrets' },
    image: { type: 'string', default: 'busybox' },
    artifacts: { type: 'string' },
    // Prints the Job of every attempt of the pass, one JSON object a line, and submits nothing.
    'dry-run': { type: 'boolean', default: false },
  },
});
const config: ExecutorConfig = {
  namespace: values.namespace,
  kubernetesNamespace: values['kubernetes-namespace'],
  image: values.image,
  controlPlaneUrl: 'http://leviathan-api:8000',
  secret: values.secret,
  artifactDir: values.artifacts ?? mkdtempSync(join(tmpdir(), 'leviathan-artifacts-')),
};

const target = { name: 'radix', repoUrl: 'https://git.example/radix.git', branch: 'main' };
const attempts: Attempt[] = [
  { taskId: 'add-tests', attemptId: 'attempt-add-tests-1', target, script: 'echo "tests: 12 passed"' },
  { taskId: 'fix-lint', attemptId: 'attempt-fix-lint-1', target, script: 'echo "lint: 2 errors" >&2; exit 3' },
];
const retry: Attempt = { taskId: 'fix-lint', attemptId: 'attempt-fix-lint-2', target, script: 'echo "lint: clean"' };

if (values['dry-run']) {
  const executor = new K8sJobExecutor(config);
  for (const attempt of [...attempts, retry]) console.log(JSON.stringify(executor.jobSpec(attempt)));
  // Not closed: close() removes every Job of the namespace, those of a real pass included.
  process.exit(0);
}

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
const { signal } = interrupt;
const executor = new K8sJobExecutor(config);
const restarted = new K8sJobExecutor(config);
let failed = false;
try {
  console.log(`scheduler ${config.namespace}: ${attempts.length} attempts of target ${target.name}`);
  for (const result of await Promise.all(attempts.map((attempt) => executor.execute(attempt, signal)))) {
    console.log(result.events.join('\n'));
  }
  // The scheduler stops right after submitting the retry; started again, it submits the same
  // attempt, which adopts the Job already there (the same spec, so the same name) and runs nothing twice.
  await executor.submit(retry, signal);
  console.log(`scheduler restarted after submitting ${retry.attemptId}`);
  console.log((await restarted.execute(retry, signal)).events.join('\n'));
} catch (error) {
  failed = true;
  const { name, message } = error as Error;
  console.error(`job-scheduler: ${name}: ${message}`);
} finally {
  await Promise.all([executor.close(), restarted.close()]);
}
process.exitCode = failed ? 1 : 0;
