import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/poll.js';
import { exerciseShell, TmuxSession } from '../support/tmux.js';
import { ROOT, runCli } from './helpers.js';

/**
 * `drivetrain exec` into a Deployment of the local cluster (the global setup's), as
 * `kubectl exec` does; with `-it` on a real pseudo-terminal (tmux).
 */

const kubeconfig = inject('kubeconfig');
const env = { KUBECONFIG: kubeconfig };
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const k8sNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const app = `web-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  const labels = { app };
  await apps.createNamespacedDeployment({
    namespace: k8sNamespace,
    body: {
      metadata: { name: app },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] } },
      },
    },
  });
  // The pod becomes ready through the deployment's controllers: no event to wait on here, polled.
  await eventually(
    async () => (await core.listNamespacedPod({ namespace: k8sNamespace, labelSelector: `app=${app}` })).items.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    60_000,
    `a ready pod of deployment ${app}`,
  );
}, 90_000);

afterAll(async () => {
  await apps.deleteNamespacedDeployment({ name: app, namespace: k8sNamespace, propagationPolicy: 'Background' }).catch(() => {});
});

describe('drivetrain exec --deployment (local cluster)', { timeout: 150_000 }, () => {
  it('-it: a terminal of the pane\'s size, resized with it; Ctrl-C reaches the command; the exit code passes through; the terminal is restored', async () => {
    const cli = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'exec', '-it', '--deployment', app, '--', 'sh'];
    const term = await TmuxSession.start(cli, { columns: 100, rows: 30 }, env, ROOT);
    try {
      expect(await exerciseShell(term, '30 100', { columns: 120, rows: 40 }, 5)).toEqual({ tty: '/dev/pts/0', size: '30 100', resized: '40 120', interrupted: '130' });
      expect(await term.exitCode(60_000)).toBe(5);
      expect(term.settingsRestored()).toBe(true);
    } finally {
      await term.kill();
    }
  });

  it('without a terminal: the streams apart and the exit code; a missing deployment exits 1 saying what to check; no workload is bad usage', async () => {
    const ran = await runCli(['exec', '--deployment', app, '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { env, deadlineMs: 90_000 });
    expect(ran).toMatchObject({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    const missing = await runCli(['exec', '--deployment', `${app}-none`, '--', 'true'], { env, deadlineMs: 90_000 });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/deployment ".*-none" not found .*kubectl auth can-i/);
    const usage = await runCli(['exec', '--', 'true'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--deployment NAME or -l SELECTOR/);
  });

  it('-e and -w: the command gets the variables and runs in the directory; bad ones are bad usage naming the flag, never showing a value of -e', async () => {
    const script = 'printf "%s|%s|%s" "$FOO" "$B" "$(pwd)"';
    const ran = await runCli(['exec', '--deployment', app, '-e', 'FOO=bar', '--env', 'B=x y', '-w', '/tmp', '--', 'sh', '-c', script], { env, deadlineMs: 90_000 });
    expect(ran).toMatchObject({ code: 0, stdout: 'bar|x y|/tmp', stderr: '' });
    const emptyDir = await runCli(['exec', '--deployment', app, '-w', '', '--', 'true'], { env });
    expect(emptyDir.code).toBe(2);
    expect(emptyDir.stderr).toMatch(/^drivetrain: invalid -w\/--workdir "": expected an absolute path or one relative to the container's working directory/);
    const noName = await runCli(['exec', '--deployment', app, '-e', '=secret', '--', 'true'], { env });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/-e expects KEY=VALUE/);
    expect(noName.stderr).not.toContain('secret');
  });
});
