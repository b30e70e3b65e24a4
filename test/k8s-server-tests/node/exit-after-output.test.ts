import https from 'node:https';
import { PassThrough, type Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxPod, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

/**
 * A container is reported terminated only once its output is in its log, as a runtime reports
 * an exit only after the container's IO is copied: a client that reads the log as soon as it
 * sees the exit gets all of it, the last line without a newline included.
 */

/** How much later than the container's own streams the engine ends the node's attach to them (a loaded engine). */
const LATE_END_MS = 500;

/** An engine client whose output attaches (those without stdin: the node's log capture) end late. */
function lateEndingAttachDocker(): Dockerode {
  const docker = new Dockerode();
  const getContainer = docker.getContainer.bind(docker);
  docker.getContainer = (id: string) => {
    const container = getContainer(id);
    const attach = container.attach.bind(container) as (options: Record<string, unknown>) => Promise<Duplex>;
    container.attach = (async (options: Record<string, unknown>) => {
      const source = await attach(options);
      if (options.stdin) return source;
      const late = new PassThrough();
      source.on('data', (chunk: Buffer) => late.write(chunk));
      source.once('end', () => setTimeout(() => late.end(), LATE_END_MS));
      source.once('error', (error) => late.destroy(error));
      late.once('close', () => source.destroy());
      return late;
    }) as typeof container.attach;
    return container;
  };
  return docker;
}

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster({ docker: lateEndingAttachDocker() });
});
afterAll(async () => {
  await t?.stop();
});

/** GET pods/{name}/log, the body as text. */
async function readLog(name: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(t.cluster.kubeconfigPath);
  const options: https.RequestOptions = { agent: false, signal: AbortSignal.timeout(30_000) };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    https
      .get(`${t.cluster.url}/api/v1/namespaces/${t.namespace}/pods/${name}/log`, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`pods/log answered ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

it('the log read as soon as the pod is seen finished holds all its output', { timeout: 120_000 }, async () => {
  const name = randomName('exit-output');
  await t.apply(busyboxPod(name, "printf 'first\\nlast'", { spec: { terminationGracePeriodSeconds: 0 } }));
  await t.waitFor('pods', name, isFinished, 60_000);
  expect(await readLog(name)).toBe('first\nlast');
});
