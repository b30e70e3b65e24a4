import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, Watch, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../k8s-server/cluster.js';
import { testNamespace } from '../setup/test-run.js';
import { exerciseShell, TmuxSession } from '../support/tmux.js';
import { EXAMPLE_TIMEOUT_MS, ROOT, runExample } from './harness.js';

/** A container that idles and ends at once on the SIGTERM of its pod's deletion. */
const idle = (name: string): V1Container => ({ name, image: 'busybox', command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"], env: [{ name: 'CONTAINER', value: name }] });

/** Resolves once the pods of the Kubernetes namespace satisfy `done`, as a watch reports them. */
function podsUntil(kc: KubeConfig, namespace: string, done: (pods: V1Pod[]) => boolean): Promise<void> {
  const pods = new Map<string, V1Pod>();
  return new Promise((resolve, reject) => {
    let request: AbortController | undefined;
    const timer = setTimeout(() => finish(new Error(`pods of ${namespace} not as expected within 180 s`)), 180_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      request?.abort();
      if (error === undefined) resolve();
      else reject(error);
    };
    void new Watch(kc)
      .watch(`/api/v1/namespaces/${namespace}/pods`, {}, (type: string, pod: V1Pod) => {
        if (type === 'DELETED') pods.delete(pod.metadata!.name!);
        else pods.set(pod.metadata!.name!, pod);
        if (done([...pods.values()])) finish();
      }, (error) => error && finish(error))
      .then((controller) => (request = controller), finish);
  });
}

const ready = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/**
 * examples/component-executor: tasks exec'd into the pods of the components' Deployments on the
 * local cluster, the container of a multi-container pod by configuration, the namespace by
 * precedence, and each error case with what to check.
 */
export function describeComponentExecutor(cluster: () => LocalCluster): void {
  describe.concurrent('examples/component-executor', { timeout: EXAMPLE_TIMEOUT_MS }, () => {
    const namespace = testNamespace('ex-emb');
    const dir = mkdtempSync(join(tmpdir(), 'component-executor-test-'));
    const baseConfig = JSON.parse(readFileSync(join(ROOT, 'examples', 'component-executor', 'emb.config.json'), 'utf8'));
    let core: CoreV1Api;

    /** A variant of the example's configuration, written to a file of its own. */
    const configFile = (name: string, change: (config: any) => void): string => {
      const config = structuredClone(baseConfig);
      change(config);
      const path = join(dir, `${name}.json`);
      writeFileSync(path, JSON.stringify(config));
      return path;
    };
    const emb = (args: string[], env: Record<string, string> = {}) => runExample('component-executor', ['run', ...args], { KUBECONFIG: cluster().kubeconfigPath, K8S_NAMESPACE: '', ...env });

    beforeAll(async () => {
      const kc = new KubeConfig();
      kc.loadFromFile(cluster().kubeconfigPath);
      core = kc.makeApiClient(CoreV1Api);
      const apps = kc.makeApiClient(AppsV1Api);
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      const deployment = (name: string, replicas: number, spec: { containers: V1Container[]; initContainers?: V1Container[] }) =>
        apps.createNamespacedDeployment({ namespace, body: { metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } } } });
      await Promise.all([
        deployment('api', 1, { containers: [idle('api')] }),
        deployment('web', 1, { containers: [idle('web'), idle('metrics')] }),
        // Waits for a database that never comes: its pod exists and is never ready.
        deployment('worker', 1, { initContainers: [idle('wait-for-db')], containers: [idle('worker')] }),
        deployment('cron', 0, { containers: [idle('cron')] }),
      ]);
      const app = (pod: V1Pod) => pod.metadata?.labels?.app;
      await podsUntil(kc, namespace, (pods) => ['api', 'web'].every((name) => pods.some((pod) => app(pod) === name && ready(pod))) && pods.some((pod) => app(pod) === 'worker'));
    }, EXAMPLE_TIMEOUT_MS);
    afterAll(async () => {
      await core?.deleteNamespace({ name: namespace });
    });

    it("runs a task in its component's pod: its variables and directory, output bytes apart, the exit code", async () => {
      const migrate = await emb(['migrate', '-n', namespace]);
      expect(migrate.stderr).toBe(`emb: migrate on api, Kubernetes namespace ${namespace} (from flag)\n`);
      expect(migrate.stdout).toMatch(/^migrating app_staging in \/tmp on api-[a-z0-9]+-[a-z0-9]+\n$/);
      expect(migrate.code).toBe(0);
      expect(await emb(['seed', '-n', namespace])).toEqual({ code: 7, stdout: 'seeding\n', stderr: `emb: seed on api, Kubernetes namespace ${namespace} (from flag)\n` });
    });

    it('runs in the configured container of a multi-container pod; without one, or with an unknown one, names those there are', async () => {
      expect(await emb(['assets', '-n', namespace])).toEqual({ code: 0, stdout: 'assets built in container web\n', stderr: `emb: assets on web, Kubernetes namespace ${namespace} (from flag)\nwarning: 2 large files\n` });
      const unset = await emb(['assets', '-n', namespace, '--config', configFile('no-container', (c) => delete c.components.web.kubernetes)]);
      expect(unset).toMatchObject({ code: 1, stdout: '' });
      expect(unset.stderr).toMatch(/\nemb: invalid container: .*pod "web-[^"]+" has several \(web, metrics\)\n$/);
      const unknown = await emb(['assets', '-n', namespace, '--config', configFile('unknown-container', (c) => (c.components.web.kubernetes.container = 'nginx'))]);
      expect(unknown.stderr).toMatch(/\nemb: invalid container: .*one of the containers of pod "web-[^"]+": web, metrics/);
    });

    it('takes the namespace from the flag, else the config, else K8S_NAMESPACE, else the kubeconfig context, else default', async () => {
      const elsewhere = configFile('elsewhere', (c) => (c.kubernetes.namespace = 'elsewhere'));
      const configured = configFile('configured', (c) => (c.kubernetes.namespace = namespace));
      const contextual = join(dir, 'kubeconfig-with-namespace');
      const kc = new KubeConfig();
      kc.loadFromFile(cluster().kubeconfigPath);
      const context = kc.getContextObject(kc.getCurrentContext())!;
      kc.contexts = kc.contexts.map((c) => (c.name === context.name ? { ...c, namespace } : c));
      writeFileSync(contextual, kc.exportConfig());
      const runs = await Promise.all([
        emb(['migrate', '-n', namespace, '--config', elsewhere], { K8S_NAMESPACE: 'other' }),
        emb(['migrate', '--config', configured], { K8S_NAMESPACE: 'other' }),
        emb(['migrate'], { K8S_NAMESPACE: namespace }),
        emb(['migrate'], { KUBECONFIG: contextual }),
        emb(['migrate']),
      ]);
      const first = (run: { stderr: string }) => run.stderr.split('\n')[0];
      expect(runs.map(first)).toEqual([
        `emb: migrate on api, Kubernetes namespace ${namespace} (from flag)`,
        `emb: migrate on api, Kubernetes namespace ${namespace} (from config)`,
        `emb: migrate on api, Kubernetes namespace ${namespace} (from env)`,
        `emb: migrate on api, Kubernetes namespace ${namespace} (from the kubeconfig context, else default)`,
        'emb: migrate on api, Kubernetes namespace default (from the kubeconfig context, else default)',
      ]);
      expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0, 1]);
      expect(runs[4]!.stderr).toMatch(/\nemb: deployment "api" not found in Kubernetes namespace "default"; check the name and namespace/);
    });

    it('explains each failure: no pod, no ready pod, unknown namespace, forbidden', async () => {
      const [none, unready, lost, forbidden] = await Promise.all([
        emb(['report', '-n', namespace]),
        emb(['queue', '-n', namespace]),
        emb(['migrate', '-n', `${namespace}-nope`]),
        emb(['migrate', '-n', namespace], { KUBECONFIG: cluster().kubeconfigFor('alice') }),
      ]);
      for (const run of [none, unready, lost, forbidden]) expect(run).toMatchObject({ code: 1, stdout: '' });
      const message = (run: { stderr: string }) => run.stderr.split('\n')[1];
      expect(message(none)).toMatch(/^emb: no pods of deployment "cron" \(selector "app=cron"\) in Kubernetes namespace "[^"]+"; check `kubectl get pods -n \S+ -l 'app=cron'`/);
      expect(message(unready)).toMatch(/^emb: none of the 1 pods of deployment "worker" .* is ready; check `kubectl get pods/);
      expect(message(lost)).toMatch(new RegExp(`^emb: deployment "api" not found in Kubernetes namespace "${namespace}-nope"`));
      expect(message(forbidden)).toMatch(/^emb: get deployment "api": forbidden \(.*User "alice" cannot get resource "deployments".*\); check the credentials and RBAC, e\.g\. `kubectl auth can-i --list`$/);
    });

    it('runs an interactive task on a terminal (tmux): the window\'s size and its changes, Ctrl-C to the task, its exit code, the terminal restored', async () => {
      const program = [process.execPath, join(ROOT, 'examples', 'component-executor', 'main.ts'), 'run', 'console', '-n', namespace];
      const term = await TmuxSession.start(program, { columns: 100, rows: 30 }, { KUBECONFIG: cluster().kubeconfigPath, K8S_NAMESPACE: '' });
      try {
        expect(await exerciseShell(term, '30 100', { columns: 120, rows: 40 }, 4)).toEqual({ tty: '/dev/pts/0', size: '30 100', resized: '40 120', interrupted: '130' });
        expect(await term.exitCode(60_000)).toBe(4);
        expect(term.settingsRestored()).toBe(true);
      } finally {
        await term.kill();
      }
    });
  });
}
