import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KUBE_VERSIONS } from '../../k8s-server/profile/profile.js';
import { profileCluster } from './helpers.js';

const run = promisify(execFile);
const clusters = await Promise.all(KUBE_VERSIONS.map((kubeVersion) => profileCluster({ kubeVersion, apiOnly: true })));
const cacheDir = mkdtempSync(join(tmpdir(), 'kubecache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('/version of every profile', () => {
  it('reports the reproduced version, to client-node and to kubectl', async () => {
    for (const c of clusters) {
      const minor = String(c.cluster.profile.server.minor);
      expect((await c.get('/version')).json()).toMatchObject({ major: '1', minor, gitVersion: `v1.${minor}.0+drivetrain`, platform: 'linux/amd64' });
      const { stdout } = await run('kubectl', ['--kubeconfig', c.cluster.kubeconfigPath, 'version', '-o', 'json'], { env: { ...process.env, KUBECACHEDIR: join(cacheDir, minor), KUBECONFIG: '' } });
      expect(JSON.parse(stdout).serverVersion).toMatchObject({ major: '1', minor, gitVersion: `v1.${minor}.0+drivetrain` });
    }
  });
});
