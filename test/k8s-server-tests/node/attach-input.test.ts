import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingWritable } from '../../../src/logs.js';
import { busyboxPod, isFinished, randomName, startTestCluster, type TestCluster } from './helpers.js';

/**
 * pods/attach holds input that arrives before the engine's stream is ready. The server
 * checks that the container runs before it hands input over; an engine slow to answer
 * that check (a busy machine) must not reorder the input or let its end overtake it.
 */

const ENGINE_DELAY_MS = 100;

/** An engine client whose container attach and inspect answer late while `slow.on` is set. */
function slowInspectDocker(slow: { on: boolean }): Dockerode {
  const docker = new Dockerode();
  const getContainer = docker.getContainer.bind(docker);
  docker.getContainer = (id: string) => {
    const container = getContainer(id);
    const late = async <T>(call: () => Promise<T>): Promise<T> => {
      if (slow.on) await new Promise((resolve) => setTimeout(resolve, ENGINE_DELAY_MS));
      return call();
    };
    const inspect = container.inspect.bind(container) as () => Promise<unknown>;
    const attach = container.attach.bind(container) as (options: object) => Promise<unknown>;
    container.inspect = (() => late(inspect)) as typeof container.inspect;
    container.attach = ((options: object) => late(() => attach(options))) as typeof container.attach;
    return container;
  };
  return docker;
}

const slow = { on: false };
let t: TestCluster;
let kc: k8s.KubeConfig;
beforeAll(async () => {
  t = await startTestCluster({ docker: slowInspectDocker(slow) });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(t.cluster.kubeconfigPath);
});
afterAll(async () => {
  await t?.stop();
});

/** A running pod whose one container reads stdin (`stdinOnce`), attached to over v4.channel.k8s.io. */
async function attachOverV4(script: string): Promise<{ name: string; ws: WebSocket }> {
  const name = randomName('av4');
  await t.apply(busyboxPod(name, script, { container: { stdin: true, stdinOnce: true }, spec: { terminationGracePeriodSeconds: 0 } }));
  await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
  const url = `${t.cluster.url.replace('https', 'wss')}/api/v1/namespaces/${t.namespace}/pods/${name}/attach?container=main&stdin=true&stdout=true`;
  const options: WebSocket.ClientOptions = {};
  await kc.applyToHTTPSOptions(options);
  const ws = new WebSocket(url, ['v4.channel.k8s.io'], options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { name, ws };
}

describe('pods/attach input while the engine stream is set up', () => {
  it('reaches the process whole and in order, before its end', async () => {
    const name = randomName('ai');
    await t.apply(busyboxPod(name, 'cat', { container: { stdin: true, stdinOnce: true }, spec: { terminationGracePeriodSeconds: 0 } }));
    await t.waitFor('pods', name, (o) => o?.status?.phase === 'Running');
    slow.on = true;
    try {
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`);
      const out = new CollectingWritable();
      const stdin = new PassThrough();
      const ws = await new k8s.Attach(kc).attach(t.namespace, name, 'main', out, new CollectingWritable(), stdin, false);
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
      // Spread over about three engine delays: some lines come before the engine stream
      // exists, some while the server waits for the inspect, and the rest after.
      for (const line of lines) {
        stdin.write(line);
        await new Promise((resolve) => setTimeout(resolve, (3 * ENGINE_DELAY_MS) / lines.length));
      }
      stdin.end();
      await closed;
      slow.on = false;
      await t.waitFor('pods', name, isFinished);
      expect(out.text()).toBe(lines.join(''));
    } finally {
      slow.on = false;
    }
  });

  it('a client that ends its input by closing the socket (no v5 CLOSE frame) still delivers every byte, then EOF', async () => {
    const { name, ws } = await attachOverV4('cat');
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(500)}\n`);
    for (const line of lines) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(line)]));
    ws.close();
    // cat ends only on EOF: the pod finishing is the proof the end arrived, after the input.
    await t.waitFor('pods', name, isFinished);
    const logs = await t.kubectl(['logs', name]);
    expect(logs.stdout).toBe(lines.join(''));
  });

  it('8 MiB of input ended by closing the socket all reach the process: the engine stream is kept until it ends', { timeout: 120_000 }, async () => {
    const { name, ws } = await attachOverV4('wc -c');
    const chunk = Buffer.concat([Buffer.from([0]), Buffer.alloc(64 * 1024, 'y')]);
    for (let i = 0; i < 128; i++) ws.send(chunk);
    ws.close();
    await t.waitFor('pods', name, isFinished, 90_000);
    expect((await t.kubectl(['logs', name])).stdout.trim()).toBe(String(128 * 64 * 1024));
  });
});
