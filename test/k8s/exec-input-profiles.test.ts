import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createK8sDriver, type K8sDriver } from '../../drivers/k8s/index.js';
import { CollectingWritable } from '../../src/logs.js';
import type { ExecOptions, Sandbox } from '../../src/types.js';
import { readTar } from '../conformance/helpers.js';
import { tarOf } from '../support/tar.js';
import type { LocalCluster } from '../k8s-server/cluster.js';
import { useLocalCluster } from '../setup/local-cluster.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * Exec with input on every exec subprotocol a supported cluster serves. 1.28 and 1.29 serve
 * up to v4, with no way to end stdin but closing the socket: there the driver frames the input
 * for a wrapper (drivers/k8s/stdin-frames.ts). 1.29 with TranslateStreamCloseWebsocketRequests
 * and 1.30+ serve v5: there the command runs as given. Either way the command gets exactly
 * its input, then EOF; its exit code, stdout and stderr are exact.
 */

const profiles = [
  { name: '1.28', options: { kubeVersion: '1.28' }, v5: false },
  { name: '1.29', options: { kubeVersion: '1.29' }, v5: false },
  { name: '1.29 with TranslateStreamCloseWebsocketRequests', options: { kubeVersion: '1.29', featureGates: 'TranslateStreamCloseWebsocketRequests=true' }, v5: true },
  { name: '1.30', options: { kubeVersion: '1.30' }, v5: true },
] as const;

const clusters = new Map<string, LocalCluster>();
for (const profile of profiles) clusters.set(profile.name, await useLocalCluster(profile.options));

const drivers: K8sDriver[] = [];
afterAll(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

const deadline = (): AbortSignal => AbortSignal.timeout(90_000);

/** Runs `command` in `sandbox` with `stdin`; its status and exact output. */
async function execIn(sandbox: Sandbox, command: string[], stdin: ExecOptions['stdin']): Promise<{ exitCode: number | null; reason?: string; stdout: Buffer; stderr: string }> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  const status = await sandbox.exec(command, { stdin, stdout, stderr, signal: deadline() });
  return { exitCode: status.exitCode, ...(status.reason === undefined ? {} : { reason: status.reason }), stdout: stdout.buffer(), stderr: stderr.text() };
}

/** The argv of every exec with input the cluster was asked for since `since` (its recent-request log). */
function execsWithInput(cluster: LocalCluster, since: number): string[][] {
  return cluster.metrics
    .recent('connect', 'pods')
    .slice(since)
    .filter((request) => request.subresource === 'exec')
    .map((request) => new URL(request.requestURI, 'https://x').searchParams)
    .filter((query) => query.get('stdin') === 'true')
    .map((query) => query.getAll('command'));
}

describe.each(profiles)('exec with input, Kubernetes $name', ({ name, v5 }) => {
  const cluster = clusters.get(name) as LocalCluster;
  const newDriver = (prefix: string, labels?: Record<string, string>): K8sDriver => {
    const driver = createK8sDriver({ namespace: testNamespace(prefix), kubeconfig: cluster.kubeconfigPath, ...(labels === undefined ? {} : { labels }) }) as K8sDriver;
    drivers.push(driver);
    return driver;
  };

  it(`sandbox exec: binary, large and empty input exact, exit codes 0, 3 and 137 exact, output complete${v5 ? ' (the command as given)' : ' (framed)'}`, async () => {
    const driver = newDriver('xi');
    const sandbox = await driver.startSandbox({ id: 'input', image: 'busybox' }, { signal: deadline() });
    const before = cluster.metrics.recent('connect', 'pods').length;

    const large = randomBytes(1536 * 1024 + 3);
    expect(await execIn(sandbox, ['cat'], large)).toEqual({ exitCode: 0, stdout: large, stderr: '' });
    // Empty input is EOF at once, as a Buffer and as a stream that ends without data.
    expect(await execIn(sandbox, ['wc', '-c'], Buffer.alloc(0))).toEqual({ exitCode: 0, stdout: Buffer.from('0\n'), stderr: '' });
    expect(await execIn(sandbox, ['wc', '-c'], new PassThrough().end())).toEqual({ exitCode: 0, stdout: Buffer.from('0\n'), stderr: '' });
    // Every byte value, the last one without a newline; the end is where the input ends.
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    expect(await execIn(sandbox, ['sh', '-c', 'cat; printf "<EOF>"; echo err >&2; exit 3'], everyByte)).toEqual({ exitCode: 3, reason: 'Error', stdout: Buffer.concat([everyByte, Buffer.from('<EOF>')]), stderr: 'err\n' });
    // Killed by a signal: 128 + 9, and nothing on stderr but the command's own.
    expect(await execIn(sandbox, ['sh', '-c', 'cat >/dev/null; echo err >&2; kill -9 $$'], large)).toEqual({ exitCode: 137, reason: 'Error', stdout: Buffer.alloc(0), stderr: 'err\n' });

    const sent = execsWithInput(cluster, before);
    expect(sent).toHaveLength(5);
    // Framed only where v5 is not served; with v5 the exec's command is the sandbox's own argv.
    for (const argv of sent) expect(argv.includes('drivetrain-stdin')).toBe(!v5);
  }, 240_000);

  it('sandbox exec: a command that ends before its input does ends the exec, its input still open', async () => {
    const driver = newDriver('xo');
    const sandbox = await driver.startSandbox({ id: 'early', image: 'busybox' }, { signal: deadline() });
    const open = new PassThrough();
    open.write('more is coming, but it never comes');
    expect(await execIn(sandbox, ['sh', '-c', 'echo early; exit 4'], open)).toEqual({ exitCode: 4, reason: 'Error', stdout: Buffer.from('early\n'), stderr: '' });
    // One that reads part of it first.
    const partial = new PassThrough();
    partial.write('abcdef');
    expect(await execIn(sandbox, ['head', '-c', '3'], partial)).toEqual({ exitCode: 0, stdout: Buffer.from('abc'), stderr: '' });
    open.destroy();
    partial.destroy();
  }, 240_000);

  it('execInWorkload with 2 MiB of input: all of it, its own exit code, its whole output', async () => {
    const driver = newDriver('xw', { app: 'exec-input' });
    await driver.startSandbox({ id: 'workload', image: 'busybox' }, { signal: deadline() });
    const input = randomBytes(2 * 1024 * 1024 + 1);
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const status = await driver.execInWorkload({
      labelSelector: `app=exec-input,drivetrain.dev/namespace=${driver.namespace}`,
      command: ['sh', '-c', 'md5sum; echo done >&2; exit 3'],
      stdin: input,
      stdout,
      stderr,
      signal: deadline(),
    });
    expect(status).toMatchObject({ done: true, exitCode: 3 });
    expect(stdout.text()).toBe(`${createHash('md5').update(input).digest('hex')}  -\n`);
    expect(stderr.text()).toBe('done\n');
  }, 240_000);

  it('copyToVolume, then copyFromVolume and readFilesFromVolume: binary, large and empty files exact', async () => {
    const driver = newDriver('xv');
    const volume = await driver.createVolume(`copy-${randomBytes(3).toString('hex')}`, { signal: deadline() });
    const large = randomBytes(1280 * 1024 + 5);
    const small = Buffer.from([0, 255, 10, 13, 0]);
    await driver.copyToVolume(volume, tarOf([{ name: 'large.bin', content: large }, { name: 'dir/' }, { name: 'dir/small.bin', content: small }, { name: 'empty.txt', content: Buffer.alloc(0) }]), { signal: deadline() });
    const whole = await readTar(await driver.copyFromVolume(volume, { signal: deadline() }));
    expect(whole.get('large.bin')?.content.equals(large)).toBe(true);
    expect(whole.get('dir/small.bin')?.content.equals(small)).toBe(true);
    expect(whole.get('empty.txt')).toMatchObject({ type: 'file' });
    expect(whole.get('empty.txt')?.content.length).toBe(0);
    const some = await readTar(await driver.readFilesFromVolume(volume, ['dir/small.bin', 'large.bin'], { signal: deadline() }));
    expect(some.get('large.bin')?.content.equals(large)).toBe(true);
    expect(some.get('dir/small.bin')?.content.equals(small)).toBe(true);
    expect(some.has('empty.txt')).toBe(false);
  }, 240_000);
});
