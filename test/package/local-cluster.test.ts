import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNamespace } from '../setup/test-run.js';
import { ROOT, consumerEnv, installConsumer, packPackage, run, type Packed } from './consumer.js';

/**
 * The local Kubernetes API server as another project's tests use it: test/k8s-server packed
 * as its own package (`drivetrain-k8s-server`), installed into an empty project, and a
 * cluster started from it that kubectl, an independent client, drives: a pod runs on the
 * Docker engine to completion and its log is read.
 */

/** Starts a cluster from the installed package, runs a pod with kubectl, prints its log, stops. */
const USE_CLUSTER = `
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { startLocalCluster, LATEST_KUBE_VERSION } from 'drivetrain-k8s-server';

const cluster = await startLocalCluster();
// Asynchronously: the server answers from this very process.
const kubectl = async (...args) => (await promisify(execFile)('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 180_000 })).stdout;
const namespace = process.env.NAMESPACE;
try {
  const { gitVersion } = JSON.parse(await kubectl('get', '--raw', '/version'));
  console.log('server ' + gitVersion.startsWith('v' + LATEST_KUBE_VERSION + '.'));
  await kubectl('create', 'namespace', namespace);
  await kubectl('run', 'hello', '-n', namespace, '--image=busybox', '--image-pull-policy=IfNotPresent', '--restart=Never', '--', 'sh', '-c', 'echo hello from a pod');
  await kubectl('wait', '-n', namespace, 'pod/hello', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=150s');
  process.stdout.write(await kubectl('logs', '-n', namespace, 'hello'));
} finally {
  await cluster.stop({ removeContainers: true });
  // The state directory (the CA's key among it) is kept by stop() for a restart: the caller removes it.
  rmSync(cluster.stateDir, { recursive: true, force: true });
}
`;

let scratch: string;
let packed: Packed;
let consumer: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drivetrain-k8s-server-package-'));
  packed = await packPackage(scratch, join(ROOT, 'test', 'k8s-server'));
  consumer = join(scratch, 'consumer');
  await installConsumer(consumer, [packed], []);
}, 600_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('the local Kubernetes API server as a package', { timeout: 300_000 }, () => {
  it('holds the compiled server with its declarations and a LICENSE, and neither tests nor the make cluster entry', () => {
    expect(packed.manifest.name).toBe('drivetrain-k8s-server');
    expect(packed.files).toContain('dist/test/k8s-server/index.js');
    expect(packed.files).toContain('dist/test/k8s-server/index.d.ts');
    // The two files of drivetrain's kit it compiles in (who owns what it makes), and nothing else of drivetrain.
    expect(packed.files.filter((file) => file.startsWith('dist/src/') && file.endsWith('.js')).sort()).toEqual(['dist/src/kit/owner-identity.js', 'dist/src/kit/process-identity.js']);
    expect(packed.files).toContain('LICENSE');
    expect(packed.files.filter((file) => !file.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(packed.files.filter((file) => /\.test\.|(^|\/)main\.|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('installed into an empty project, starts a cluster that kubectl drives: a pod runs on the engine and its log is read', async () => {
    expect(existsSync(join(consumer, 'node_modules', 'drivetrain'))).toBe(false);
    const script = join(consumer, 'cluster.mjs');
    await writeFile(script, USE_CLUSTER);
    const result = await run(process.execPath, [script], { cwd: consumer, env: consumerEnv({ NAMESPACE: testNamespace('pkg') }), timeoutMs: 300_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Started local Kubernetes API server (\w+) at https:\/\/127\.0\.0\.1:\d+: Kubernetes 1\.34\nserver true\nhello from a pod\nStopped local Kubernetes API server \1\n$/);
  });
});
