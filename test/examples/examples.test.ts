import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIVER_CLUSTER } from '../setup/driver-cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { ROOT } from './harness.js';
import { describeActRunner } from './act-runner.js';
import { describeComponentExecutor } from './component-executor.js';
import { describeJobScheduler } from './job-scheduler.js';
import { describeNixExecutor } from './nix-executor.js';
import { describeOrchestraRunner } from './orchestra-runner.js';

/**
 * The engines of examples/ run as their users run them, against Docker where the design fits
 * and against one local cluster shared by all of them. The cluster runs in RBAC mode, as
 * production clusters do: the examples use its administrator's kubeconfig, except where an
 * engine runs as a service account under a minimal Role.
 */
// Its node is a self-hosted runner's (the act-runner example's runs-on).
const cluster = await useLocalCluster({ ...DRIVER_CLUSTER, authorizationMode: 'RBAC', node: { labels: { 'node-type': 'self-hosted' } } });

describe('examples', () => {
  it('type-check against the published types (package.json "exports" into the built dist)', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(process.execPath, [tsc, '-p', join(ROOT, 'examples', 'tsconfig.json')], { cwd: ROOT }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number), output: stdout + stderr }));
    });
    expect(result).toEqual({ code: 0, output: '' });
  });
});

describeOrchestraRunner(() => cluster.kubeconfigPath);
describeNixExecutor(() => cluster.kubeconfigPath);
describeJobScheduler(() => cluster);
describeComponentExecutor(() => cluster);
describeActRunner(() => cluster);
