import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalClusterOptions } from '../../k8s-server/cluster.js';
import { resolveProfile } from '../../k8s-server/profile/profile.js';
import { busyboxPod, containerState, randomName, startTestCluster, type TestCluster } from '../node/helpers.js';
import { kubectlTerminalChecks } from './kubectl-terminal-checks.js';

/**
 * The kubectl checks of the local cluster, against a cluster of `options`. The machine's
 * `kubectl` runs the client of the server's minor version (1.27–1.33; its own 1.32 beyond):
 * before 1.30 that kubectl speaks SPDY for exec and attach, which the server refuses (see
 * docs/cluster-profiles.md), so there those checks are that refusal. With `terminal`, also
 * `exec -it` and `run -it` on a real pseudo-terminal (kubectl-terminal-checks.ts).
 */
export function kubectlChecks(options: LocalClusterOptions = {}, { terminal = false } = {}): void {
  const profile = resolveProfile(options);
  const version = profile.server.version;
  const kubectlMinor = profile.server.minor <= 33 ? profile.server.minor : 32;
  describe(`kubectl 1.${kubectlMinor} against ${version} (${profile.describe()})`, () => {
    let t: TestCluster;
    beforeAll(async () => {
      t = await startTestCluster(options);
    });
    afterAll(async () => {
      await t?.stop();
    });

    if (kubectlMinor >= 30) {
      it('run -i --rm: stdin reaches the process, its exit code is kubectl\'s, the pod is gone', async () => {
        const name = randomName('run');
        const result = await t.kubectl(['run', name, '-i', '--rm', '--restart=Never', '--image=busybox', '--', 'sh', '-c', 'cat; exit 3'], { input: 'hello from stdin\n' });
        expect(result.stdout).toContain('hello from stdin');
        expect(result.code).toBe(3);
        await t.waitFor('pods', name, (o) => o === undefined);
      });

      it('exec -i: stdin EOF reaches cat, exit codes come back', async () => {
        const name = randomName('exec');
        await t.apply(busyboxPod(name, 'sleep 600', { spec: { terminationGracePeriodSeconds: 0 } }));
        expect((await t.kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=20s'])).code).toBe(0);
        const cat = await t.kubectl(['exec', '-i', name, '--', 'sh', '-c', 'cat'], { input: 'piped\n' });
        expect(cat).toMatchObject({ code: 0, stdout: 'piped\n' });
        const failing = await t.kubectl(['exec', name, '--', 'sh', '-c', 'echo bad >&2; exit 7']);
        expect(failing.code).toBe(7);
        expect(failing.stderr).toContain('bad');
      });

      it('attach streams the main process output and ends with it', async () => {
        const name = randomName('attach');
        await t.apply(busyboxPod(name, 'read line; echo got $line; sleep 0.3; echo bye', { container: { stdin: true, stdinOnce: true } }));
        expect((await t.kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=20s'])).code).toBe(0);
        const attached = await t.kubectl(['attach', '-i', name], { input: 'ping\n' });
        expect(attached.stdout).toContain('got ping');
        expect(attached.stdout).toContain('bye');
        await t.waitFor('pods', name, (o) => o?.status?.phase === 'Succeeded');
      });

      if (terminal) kubectlTerminalChecks(() => t);
    } else {
      it('exec and attach: kubectl speaks SPDY, which the server refuses as one without it does', async () => {
        const name = randomName('spdy');
        await t.apply(busyboxPod(name, 'sleep 600', { spec: { terminationGracePeriodSeconds: 0 }, container: { stdin: true } }));
        expect((await t.kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=20s'])).code).toBe(0);
        for (const args of [['exec', name, '--', 'true'], ['attach', name]]) {
          const result = await t.kubectl(args);
          expect(result.code).not.toBe(0);
          expect(result.stderr).toMatch(/(^|\n)Error from server \(BadRequest\): Upgrade request required\n$/);
        }
      });
    }

    it('logs -f follows until the container exits; wait for Succeeded by jsonpath', async () => {
      const name = randomName('logs');
      await t.apply(busyboxPod(name, 'for i in 1 2 3; do echo line $i; sleep 0.2; done; echo oops >&2'));
      // Started, and perhaps already ended: its run is shorter than a loaded machine's kubectl
      // start, so waiting with kubectl for Ready could miss the moment it was (the Ready wait is
      // checked where pods keep running).
      await t.waitFor('pods', name, (o) => Boolean(o?.status?.containerStatuses?.[0]?.state?.running || o?.status?.containerStatuses?.[0]?.state?.terminated), 60_000);
      const logs = await t.kubectl(['logs', '-f', name]);
      expect(logs.code).toBe(0);
      // 'oops' goes to stderr, copied apart from stdout: a loaded machine may deliver it before 'line 3'.
      expect(['line 1\nline 2\nline 3\noops\n', 'line 1\nline 2\noops\nline 3\n']).toContain(logs.stdout);
      const done = await t.kubectl(['wait', "--for=jsonpath={.status.phase}=Succeeded", `pod/${name}`, '--timeout=20s']);
      expect(done.code).toBe(0);
      const tail = await t.kubectl(['logs', name, '--tail=1']);
      expect(tail.stdout).toBe(`${logs.stdout.trimEnd().split('\n').pop()}\n`);
    });

    // Where sidecars change (1.28 without, 1.29 with) and on the default profile: the rest behave as 1.29.
    if (terminal || profile.server.minor <= 29) {
      it('a sidecar with a startup probe (kubectl create): the main container reaches it at localhost, logs -c reads each container; 1.28 refuses the probe', async () => {
        const name = randomName('side');
        const sidecar = { name: 'side', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo serving; exec busybox nc -ll -p 7070 -e echo pong'], restartPolicy: 'Always', startupProbe: { tcpSocket: { port: 7070 }, periodSeconds: 1 } };
        const pod = busyboxPod(name, 'busybox nc 127.0.0.1 7070 </dev/null', { spec: { terminationGracePeriodSeconds: 1, initContainers: [sidecar] } });
        const created = await t.kubectl(['create', '--validate=false', '-f', '-'], { input: JSON.stringify(pod) });
        if (!profile.server.enabled('SidecarContainers')) {
          // The field is dropped, so the probe is on an ordinary init container.
          expect(created.code).not.toBe(0);
          expect(created.stderr).toContain('spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always');
          return;
        }
        expect(created.code).toBe(0);
        expect((await t.kubectl(['wait', '--for=jsonpath={.status.phase}=Succeeded', `pod/${name}`, '--timeout=60s'])).code).toBe(0);
        expect((await t.kubectl(['logs', name, '-c', 'main'])).stdout).toBe('pong\n');
        expect((await t.kubectl(['logs', name, '-c', 'side'])).stdout).toBe('serving\n');
      });
    }

    it('get -l, get -w and delete -l', async () => {
      const label = randomName('grp');
      const names = [randomName('a'), randomName('b')];
      const watcher = t.spawnKubectl(['get', 'pods', '-l', `grp=${label}`, '-w', '--no-headers']);
      let watched = '';
      watcher.stdout!.on('data', (d: Buffer) => (watched += d.toString()));
      for (const name of names) await t.apply(busyboxPod(name, 'sleep 600', { labels: { grp: label } }));
      for (const name of names) await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
      const listed = await t.kubectl(['get', 'pods', '-l', `grp=${label}`, '--no-headers']);
      expect(listed.stdout.trim().split('\n')).toHaveLength(2);
      expect(listed.stdout).toContain('Running');
      const deleted = await t.kubectl(['delete', 'pods', '-l', `grp=${label}`, '--grace-period=0', '--force']);
      expect(deleted.code).toBe(0);
      for (const name of names) await t.waitFor('pods', name, (o) => o === undefined);
      watcher.kill();
      for (const name of names) expect(watched).toContain(name);
      expect(watched).toContain('Running');
    });

    it('describe shows the kubelet events; get pvc shows a bound claim', async () => {
      const name = randomName('desc');
      await t.apply(busyboxPod(name, 'exit 0'));
      await t.waitFor('pods', name, (o) => o?.status?.phase === 'Succeeded');
      const described = await t.kubectl(['describe', 'pod', name]);
      for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) expect(described.stdout).toContain(reason);
      const claim = randomName('claim');
      await t.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
      await t.waitFor('persistentvolumeclaims', claim, (o) => o?.status?.phase === 'Bound');
      const pvc = await t.kubectl(['get', 'pvc', claim, '--no-headers']);
      expect(pvc.stdout).toMatch(/Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO/);
    });

    it('a job created by kubectl completes; kubectl wait --for=condition=complete', async () => {
      const name = randomName('job');
      const manifest = await t.kubectl(['create', 'job', name, '--image=busybox', '--dry-run=client', '-o', 'json', '--', 'sh', '-c', 'exit 0']);
      expect(manifest.code).toBe(0);
      await t.apply(JSON.parse(manifest.stdout));
      const waited = await t.kubectl(['wait', '--for=condition=complete', `job/${name}`, '--timeout=30s']);
      expect(waited.code).toBe(0);
      const job = t.cluster.store.get('jobs', t.namespace, name);
      expect(job!.status).toMatchObject({ succeeded: 1 });
      // From 1.31 the controller writes SuccessCriteriaMet before Complete (docs/cluster-profiles.md).
      expect(job!.status.conditions.map((c: any) => c.type)).toEqual(t.cluster.profile.server.minor >= 31 ? ['SuccessCriteriaMet', 'Complete'] : ['Complete']);
      const pod = t.cluster.store.list('pods', t.namespace, `job-name=${name}`)[0];
      expect(containerState(pod).terminated.exitCode).toBe(0);
      expect(pod!.metadata.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
    });
  });
}
