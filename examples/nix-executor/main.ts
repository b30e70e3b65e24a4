// A Nix-style CI workflow through the executor (see README.md for the flags and the environment).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CollectingWritable, RegistryError } from 'drivetrain';
import { NixExecutor, type ExecutorConfig } from './executor.ts';

const { values } = parseArgs({
  options: {
    'image-archive': { type: 'string' },
    registry: { type: 'string', default: '127.0.0.1:5000' },
    mode: { type: 'string', default: 'shared' },
    driver: { type: 'string', default: 'k8s' },
    workflow: { type: 'string', default: `nixactions-${randomBytes(3).toString('hex')}` },
    artifacts: { type: 'string' },
    'pod-ready-timeout': { type: 'string', default: '300' },
  },
});
const podReadyTimeout = Number(values['pod-ready-timeout']);
if (values['image-archive'] === undefined || !['shared', 'dedicated'].includes(values.mode) || !['k8s', 'docker'].includes(values.driver) || !(podReadyTimeout > 0)) {
  console.error('usage: main.ts --image-archive PATH [--registry HOST:PORT] [--mode shared|dedicated] [--driver k8s|docker] [--workflow ID] [--artifacts DIR] [--pod-ready-timeout SECONDS]');
  process.exit(2);
}
const artifacts = values.artifacts ?? mkdtempSync(join(tmpdir(), 'nixactions-artifacts-'));

const config: ExecutorConfig = {
  mode: values.mode as ExecutorConfig['mode'],
  driver: values.driver as ExecutorConfig['driver'],
  workflowId: values.workflow,
  imageArchive: values['image-archive'],
  registry: { url: values.registry, usernameEnv: 'REGISTRY_USERNAME', passwordEnv: 'REGISTRY_PASSWORD' },
  workspace: new URL('workspace', import.meta.url).pathname,
  podReadyTimeout,
  resources: { memoryBytes: 128 * 2 ** 20 },
};

/** The workflow's jobs: `build` and `lint` need nothing and run in parallel; `test` needs build's `out`. */
const SCRIPTS: Record<string, string> = {
  build: `mkdir -p out && cp src/hello.txt out/ && printf 'bin\\000\\377\\n' > out/data.bin && echo "job $JOB in $PWD, executor build \${EXECUTOR_BUILD:-unknown}"`,
  // Edits its own copy of the repository only.
  lint: `echo 'edited by lint' >> src/hello.txt && echo "job $JOB in $PWD" && echo 'lint: 0 warnings' >&2`,
  test: `cmp out/hello.txt src/hello.txt && echo "job $JOB: the artifact matches this copy of the repository" && echo "data.bin: $(wc -c < out/data.bin) bytes" && echo 'jobs in this pod:' $(ls /workspace/jobs)`,
};

const executor = new NixExecutor(config);
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
const { signal } = interrupt;

/** setupJob, (restoreArtifact), executeJob, (saveArtifact), cleanupJob; resolves with what to print. */
async function job(name: string, artifact: { save?: string; restore?: string } = {}): Promise<{ report: string; exitCode: number | null }> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  await executor.setupJob(name, signal);
  try {
    if (artifact.restore !== undefined) await executor.restoreArtifact(name, join(artifacts, 'build'), artifact.restore, signal);
    const exitCode = await executor.executeJob(name, SCRIPTS[name]!, { stdout, stderr, env: { JOB: name }, signal });
    if (artifact.save !== undefined && exitCode === 0) {
      mkdirSync(join(artifacts, name), { recursive: true });
      await executor.saveArtifact(name, artifact.save, join(artifacts, name), signal);
    }
    const lines = (prefix: string, text: string) => text.split('\n').filter((line) => line !== '').map((line) => `  ${prefix} ${line}`);
    return { exitCode, report: [`job ${name}: exit ${exitCode}`, ...lines('|', stdout.text()), ...lines('!', stderr.text())].join('\n') };
  } finally {
    await executor.cleanupJob(name, signal);
  }
}

let failed = false;
try {
  await executor.setupWorkspace(signal);
  console.log(`workflow ${config.workflowId}: ${config.mode} mode on ${config.driver}, executor image ${executor.imageReference}`);
  // Jobs without dependencies run in parallel, each in its own directory (or pod); reports print in job order.
  const results = [...(await Promise.all([job('build', { save: 'out' }), job('lint')])), await job('test', { restore: 'out' })];
  for (const result of results) {
    console.log(result.report);
    if (result.exitCode !== 0) failed = true;
  }
  console.log(`artifact out of build: saved to ${join(artifacts, 'build')}, restored into test`);
} catch (error) {
  failed = true;
  const { name, message } = error as Error;
  const hint = error instanceof RegistryError && error.reason === 'Unauthorized' ? ` (check ${config.registry.usernameEnv} and ${config.registry.passwordEnv})` : '';
  console.error(`nix-executor: ${name === 'Error' ? '' : `${name}: `}${message}${hint}`);
} finally {
  await executor.cleanupWorkspace();
}
console.log(`workflow ${failed ? 'failed' : 'passed'}`);
process.exitCode = failed ? 1 : 0;
