import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentOwner, formatOwner } from '../../../src/kit/owner-identity.js';
import { startTicksOf } from '../../../src/kit/process-identity.js';
import { startLocalCluster, type LocalCluster } from '../../k8s-server/cluster.js';
import { NODE_LABELS } from '../../k8s-server/node/kubelet/labels.js';
import { RUN_DOCKER_LABEL, runDockerLabels, testRunTag } from '../../setup/test-run.js';
import { eventually } from '../../support/poll.js';

/**
 * What a killed server leaves on the engine, and who removes it: a server killed with SIGKILL
 * never runs its stop, so its pods' containers and volumes stay; the next server that starts
 * on the engine removes them, and keeps those of a server that still runs in another process
 * (another test run's, beside this one). Each server here runs in a process of its own
 * (server-process.ts), as servers of separate test runs do.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER = fileURLToPath(new URL('./server-process.ts', import.meta.url));
const docker = new Dockerode();

interface ServerProcess {
  child: ChildProcess;
  instance: string;
}

async function startServerProcess(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const ready = await eventually(() => /^READY (\w+)$/m.exec(output) ?? (child.exitCode !== null ? new Error(output) : undefined), 90_000, `a server process to run its pod (output: ${output})`, 100);
  if (ready instanceof Error) throw new Error(`the server process exited: ${ready.message}`);
  return { child, instance: ready[1]! };
}

/** The Docker containers and volumes of one server instance, with their labels. */
async function resourcesOf(instance: string): Promise<{ containers: Dockerode.ContainerInfo[]; volumes: Array<{ Name: string; Labels: Record<string, string> }> }> {
  const filters = { label: [`${NODE_LABELS.instance}=${instance}`] };
  const [containers, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listVolumes({ filters })]);
  return { containers, volumes: (volumes.Volumes ?? []) as Array<{ Name: string; Labels: Record<string, string> }> };
}

async function removeAllOf(instance: string): Promise<void> {
  const { containers, volumes } = await resourcesOf(instance);
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined)));
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

let killed: ServerProcess;
let live: ServerProcess;
let next: Promise<LocalCluster> | undefined;
/** The server started after the kill, in this process: started once, by whichever test asks first. */
const startNext = () => (next ??= startLocalCluster({ dockerLabels: runDockerLabels() }));

beforeAll(async () => {
  [killed, live] = await Promise.all([startServerProcess(), startServerProcess()]);
}, 120_000);

afterAll(async () => {
  const cluster = await next?.catch(() => undefined);
  await cluster?.stop({ removeContainers: true });
  if (cluster !== undefined) rmSync(cluster.stateDir, { recursive: true, force: true });
  for (const server of [killed, live]) {
    if (server === undefined) continue;
    server.child.kill('SIGTERM');
    await Promise.race([exited(server.child), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    server.child.kill('SIGKILL');
    await removeAllOf(server.instance);
  }
}, 120_000);

describe('a killed local Kubernetes server', { timeout: 120_000 }, () => {
  it("leaves its pod's container and emptyDir volume on the engine, labelled with its owner process and the run, which the leak check names", async () => {
    const owner = formatOwner({ ...currentOwner(), pid: killed.child.pid!, startTicks: startTicksOf(killed.child.pid!) ?? -1 });
    // Stopped first, then looked at: a stopped server does nothing, as a killed one (SIGKILL runs
    // no code), and a server that starts meanwhile elsewhere on the engine (another test run's)
    // takes a stopped process for a live one, so nothing of it goes before it is looked at.
    killed.child.kill('SIGSTOP');
    const left = await resourcesOf(killed.instance);
    expect(left.containers.length).toBeGreaterThan(0);
    expect(left.volumes.map((v) => v.Name)).toEqual([expect.stringMatching(/^k8s-emptydir-/)]);
    for (const labels of [...left.containers.map((c) => c.Labels), ...left.volumes.map((v) => v.Labels)]) {
      expect(labels[NODE_LABELS.owner]).toBe(owner);
      expect(labels[RUN_DOCKER_LABEL]).toBe(testRunTag());
    }
    const check = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['test/infra/leak-check.mjs', testRunTag()], { cwd: ROOT }, (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout })),
    );
    expect(check.code).toBe(1);
    for (const container of left.containers) expect(check.stdout).toContain(`docker container ${container.Names[0]!.slice(1)} of local cluster ${killed.instance}`);
    expect(check.stdout).toContain(`docker volume ${left.volumes[0]!.Name} of local cluster ${killed.instance}`);
    killed.child.kill('SIGKILL');
    await exited(killed.child);
  });

  it('has them removed by the next server that starts on the engine', async () => {
    killed.child.kill('SIGKILL');
    await exited(killed.child);
    await startNext();
    expect(await resourcesOf(killed.instance)).toEqual({ containers: [], volumes: [] });
  });

  it('never has those of a live server in another process removed', async () => {
    const before = await resourcesOf(live.instance);
    expect(before.containers.length).toBeGreaterThan(0);
    expect(before.volumes.length).toBe(1);
    await startNext();
    const after = await resourcesOf(live.instance);
    const idAndState = (list: Dockerode.ContainerInfo[]) => list.map((c) => `${c.Id} ${c.State}`).sort();
    expect(idAndState(after.containers)).toEqual(idAndState(before.containers));
    expect(after.volumes.map((v) => v.Name)).toEqual(before.volumes.map((v) => v.Name));
  });
});
