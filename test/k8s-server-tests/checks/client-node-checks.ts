import https from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../../src/logs.js';
import type { LocalClusterOptions } from '../../k8s-server/cluster.js';
import { NODE_LABELS } from '../../k8s-server/node/kubelet/labels.js';
import { resolveProfile } from '../../k8s-server/profile/profile.js';
import { eventually } from '../../support/poll.js';
import { busyboxPod, containerState, isFinished, randomName, startTestCluster, type TestCluster } from '../node/helpers.js';

/**
 * The client-node proofs of the local cluster, against a cluster of `options`. Where the
 * version serves no v5.channel.k8s.io, client-node settles on v4, which has no stdin close:
 * there exec's input is read to a known length instead of to its end. Where the version has
 * no split log streams, `stream` is dropped and the combined log comes back.
 */
export function clientNodeChecks(options: LocalClusterOptions = {}): void {
  const profile = resolveProfile(options);
  const server = profile.server;
  const v5 = server.minor >= 29 && server.enabled('TranslateStreamCloseWebsocketRequests');
  const streamForbidden = server.minor >= 32 && !server.enabled('PodLogsQuerySplitStreams');
  const splitStreams = server.minor >= 32 && server.enabled('PodLogsQuerySplitStreams') && profile.kubelet.minor >= 32 && profile.kubelet.enabled('PodLogsQuerySplitStreams');
  let t: TestCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  /** A GET with the kubeconfig's credentials, for query parameters the generated client does not expose. */
  async function rawGet(path: string): Promise<string> {
    const requestOptions: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(requestOptions);
    return new Promise((resolve, reject) => {
      https
        .get(`${t.cluster.url}${path}`, requestOptions, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks)}`))));
        })
        .on('error', reject);
    });
  }

  async function runningPod(script: string, extra: Parameters<typeof busyboxPod>[2] = {}): Promise<string> {
    const name = randomName('cn');
    await t.apply(busyboxPod(name, script, { ...extra, spec: { terminationGracePeriodSeconds: 0, ...(extra.spec ?? {}) } }));
    await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
    return name;
  }

  /** Creates `file` in the pod's main container, through the engine (not the API under test). */
  async function touchInPod(name: string, file: string): Promise<void> {
    const docker = new Dockerode();
    const [main] = await docker.listContainers({ filters: { label: [`${NODE_LABELS.pod}=${name}`, `${NODE_LABELS.container}=main`] } });
    const exec = await docker.getContainer(main!.Id).exec({ Cmd: ['touch', file] });
    await exec.start({ Detach: true });
  }

  describe(`client-node against ${server.version} (${profile.describe()})`, () => {
    beforeAll(async () => {
      t = await startTestCluster(options);
      kc = new k8s.KubeConfig();
      kc.loadFromFile(t.cluster.kubeconfigPath);
      core = kc.makeApiClient(k8s.CoreV1Api);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it(v5 ? 'Exec (v5): stdin EOF reaches cat; the exit code comes from the status channel' : 'Exec (v4): input read to a known length (no stdin close on v4); the exit code comes from the status channel', async () => {
      const name = await runningPod('sleep 600');
      const out = new CollectingWritable();
      // On v4 client-node would close the socket at the input's end, losing the status: the input stays open.
      const open = new PassThrough();
      open.write('to cat\n');
      const input = v5 ? Readable.from(['to cat\n']) : open;
      const command = v5 ? ['sh', '-c', 'cat; echo err >&2; exit 3'] : ['sh', '-c', 'head -c 7; echo err >&2; exit 3'];
      const status = await new Promise<k8s.V1Status>((resolve) => {
        void new k8s.Exec(kc).exec(t.namespace, name, 'main', command, out, new CollectingWritable(), input, false, resolve);
      });
      expect(out.text()).toBe('to cat\n');
      expect(status.status).toBe('Failure');
      expect(status.reason).toBe('NonZeroExitCode');
      expect(status.details?.causes?.[0]).toMatchObject({ reason: 'ExitCode', message: '3' });
      const ok = await new Promise<k8s.V1Status>((resolve) => {
        void new k8s.Exec(kc).exec(t.namespace, name, 'main', ['true'], new CollectingWritable(), new CollectingWritable(), null, false, resolve);
      });
      expect(ok.status).toBe('Success');
      open.destroy();
    });

    it('Attach: stdin reaches the main process and its output comes back', async () => {
      const name = await runningPod('read line; echo "attached:$line"', { container: { stdin: true } });
      const out = new CollectingWritable();
      const stdin = new PassThrough();
      const ws = await new k8s.Attach(kc).attach(t.namespace, name, 'main', out, new CollectingWritable(), stdin, false);
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
      stdin.write('hi\n');
      await closed;
      expect(out.text()).toBe('attached:hi\n');
      const done = await t.waitFor('pods', name, isFinished);
      expect(containerState(done).terminated.exitCode).toBe(0);
    });

    it('Log: follow until exit; stream=Stdout|Stderr split the output where the version has it', { timeout: 120_000 }, async () => {
      // stdout and stderr reach the engine through separate pipes, so no pause makes their order
      // certain on a loaded machine: each next line is written only once the follow has seen the
      // one before (the task is released through the engine).
      const name = await runningPod('echo one; until [ -e /tmp/two ]; do sleep 0.05; done; echo two >&2; until [ -e /tmp/three ]; do sleep 0.05; done; echo three');
      const out = new CollectingWritable();
      // The response body is piped into `out`: it finishes when the server ends the followed log.
      const ended = new Promise<void>((resolve) => out.on('finish', () => resolve()));
      await new k8s.Log(kc).log(t.namespace, name, 'main', out, { follow: true });
      await eventually(() => out.text() === 'one\n', 30_000, 'the first line followed');
      await touchInPod(name, '/tmp/two');
      await eventually(() => out.text() === 'one\ntwo\n', 30_000, 'the second line followed');
      await touchInPod(name, '/tmp/three');
      await ended;
      expect(out.text()).toBe('one\ntwo\nthree\n');
      await t.waitFor('pods', name, isFinished);
      const stdout = core.readNamespacedPodLog({ name, namespace: t.namespace, stream: 'Stdout' });
      const stderr = core.readNamespacedPodLog({ name, namespace: t.namespace, stream: 'Stderr' });
      if (streamForbidden) {
        // 1.32+ without the gate: any stream is 422 FieldValueForbidden.
        await expect(stdout).rejects.toMatchObject({ code: 422 });
        await expect(stderr).rejects.toMatchObject({ code: 422 });
      } else expect([await stdout, await stderr]).toEqual(splitStreams ? ['one\nthree\n', 'two\n'] : ['one\ntwo\nthree\n', 'one\ntwo\nthree\n']);
      const stamped = await core.readNamespacedPodLog({ name, namespace: t.namespace, timestamps: true, tailLines: 1 });
      expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z three\n$/);
      const stderrTail = core.readNamespacedPodLog({ name, namespace: t.namespace, stream: 'Stderr', tailLines: 1 });
      if (splitStreams || streamForbidden) await expect(stderrTail).rejects.toMatchObject({ code: 422 });
      else expect(await stderrTail).toBe('three\n');
      // sinceTime reaches the kubelet in whole seconds: resuming from a line's own timestamp starts at that second.
      const all = (await core.readNamespacedPodLog({ name, namespace: t.namespace, timestamps: true })).trim().split('\n');
      expect(all).toHaveLength(3);
      const second = all[1]!.split(' ')[0]!;
      const resumed = await rawGet(`/api/v1/namespaces/${t.namespace}/pods/${name}/log?timestamps=true&sinceTime=${encodeURIComponent(second)}`);
      expect(resumed.trim().split('\n')).toEqual(all.filter((line) => line.slice(0, 19) >= second.slice(0, 19)));
    });

    it('Watch sees the pod go Pending → Running → Succeeded; an informer sees it too', async () => {
      const name = randomName('watched');
      const phases: string[] = [];
      const watch = new k8s.Watch(kc);
      const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${t.namespace}/pods`, () => core.listNamespacedPod({ namespace: t.namespace }));
      const informed = new Promise<void>((resolve) => {
        informer.on('update', (pod: k8s.V1Pod) => {
          if (pod.metadata?.name === name && pod.status?.phase === 'Succeeded') resolve();
        });
      });
      await informer.start();
      const succeeded = new Promise<void>((resolve) => {
        void watch
          .watch(`/api/v1/namespaces/${t.namespace}/pods`, { fieldSelector: `metadata.name=${name}` }, (_type, pod: k8s.V1Pod) => {
            const phase = pod.status?.phase ?? '';
            if (phases.at(-1) !== phase) phases.push(phase);
            if (phase === 'Succeeded') resolve();
          }, () => undefined)
          .then((req) => succeeded.finally(() => req.abort()));
      });
      await t.apply(busyboxPod(name, 'sleep 0.3; exit 0'));
      await succeeded;
      await informed;
      await informer.stop();
      expect(phases).toEqual(['Pending', 'Running', 'Succeeded']);
    });

    it('the exit the engine reports reaches the store with its code', async () => {
      // How soon is a figure (make bench, P4 exit delay on k8s), not asserted here: a loaded
      // machine delays both sides alike.
      const name = randomName('fast');
      const docker = new Dockerode();
      const events = await docker.getEvents({ filters: { type: ['container'], event: ['die'], label: [`drivetrain-local-k8s/pod-name=${name}`] } });
      const engineSaw = new Promise<string>((resolve) => events.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0]!).Actor.Attributes.exitCode)));
      await t.apply(busyboxPod(name, 'sleep 0.3; exit 6'));
      const [engineExit, pod] = await Promise.all([engineSaw, t.waitFor('pods', name, isFinished)]);
      (events as unknown as { destroy(): void }).destroy();
      expect(engineExit).toBe('6');
      expect(containerState(pod).terminated.exitCode).toBe(6);
    });

    describe('pod subresource errors, as a kubelet words them', () => {
      it('log: several containers need a name; unknown container; waiting container; no previous', async () => {
        const name = randomName('multi');
        await t.apply({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 0,
            containers: [
              { name: 'a', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] },
              { name: 'b', image: 'registry.invalid/absent:1', imagePullPolicy: 'IfNotPresent' },
            ],
          },
        });
        await t.waitFor('pods', name, (o) => o?.status?.containerStatuses?.[0]?.state?.running && o.status.containerStatuses[1]?.state?.waiting);
        const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: { code: number; body: string }) => ({ code: error.code, message: JSON.parse(error.body).message }));
        expect(await failure(core.readNamespacedPodLog({ name, namespace: t.namespace }))).toEqual({ code: 400, message: `a container name must be specified for pod ${name}, choose one of: [a b]` });
        expect(await failure(core.readNamespacedPodLog({ name, namespace: t.namespace, container: 'zz' }))).toEqual({ code: 400, message: `container zz is not valid for pod ${name}` });
        expect((await failure(core.readNamespacedPodLog({ name, namespace: t.namespace, container: 'b' })))?.message).toMatch(new RegExp(`^container "b" in pod "${name}" is waiting to start: `));
        expect(await failure(core.readNamespacedPodLog({ name, namespace: t.namespace, container: 'a', previous: true }))).toEqual({ code: 400, message: `previous terminated container "a" in pod "${name}" not found` });
      });

      it('exec into a finished container is refused with 400', async () => {
        const name = randomName('gone');
        await t.apply(busyboxPod(name, 'exit 0'));
        await t.waitFor('pods', name, isFinished);
        const result = await t.kubectl(['exec', name, '--', 'true']);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/container not found|cannot exec into a container in a completed pod/);
      });
    });
  });
}
