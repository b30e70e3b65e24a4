import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/index.js';
import { runCli, spawnCli } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

const docker = new Docker();

/** Everything (containers, volumes) the engine still holds for a namespace. */
async function leftovers(namespace: string): Promise<string[]> {
  const filters = { label: [`${LABELS.namespace}=${namespace}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return [...containers.map((c) => `container ${c.Names.join(',')}`), ...(Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain run --driver docker', { timeout: 150_000 }, () => {
  it('runs busybox, prints its output and removes everything', async () => {
    const namespace = testNamespace('cli');
    const result = await runCli(['run', '--driver', 'docker', '--namespace', namespace, 'busybox', '--', 'echo', 'hi']);
    expect(result).toMatchObject({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(await leftovers(namespace)).toEqual([]);
  });

  it('propagates the exit code, keeps streams apart and applies -e, -w, -u', async () => {
    const result = await runCli([
      'run', '--driver', 'docker', '-e', 'A=1', '-w', '/tmp/work', '-u', 'nobody',
      'busybox', '--', 'sh', '-c', 'echo "$A $PWD $(id -u)"; echo oops >&2; exit 7',
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('1 /tmp/work 65534\n');
    expect(result.stderr).toBe('oops\n');
  });

  it('streams stdin with -i into a -v volume, which a namespace given with --namespace keeps until cleanup', async () => {
    const namespace = testNamespace('cli');
    const result = await runCli(['run', '--driver', 'docker', '--namespace', namespace, '-i', '-v', 'data:/data', 'busybox', '--', 'sh', '-c', 'cat > /data/f && cat /data/f'], {
      input: 'through a volume\n',
    });
    expect(result).toMatchObject({ code: 0, stdout: 'through a volume\n' });
    expect(await leftovers(namespace)).toEqual([expect.stringMatching(/^volume /)]);
    const again = await runCli(['run', '--driver', 'docker', '--namespace', namespace, '-v', 'data:/data', 'busybox', '--', 'cat', '/data/f']);
    expect(again).toMatchObject({ code: 0, stdout: 'through a volume\n' });
    expect((await runCli(['cleanup', '--driver', 'docker', '--namespace', namespace])).code).toBe(0);
    expect(await leftovers(namespace)).toEqual([]);
  });

  it('without --namespace removes the -v volumes with the random namespace', async () => {
    const prefix = testNamespace('pfx');
    const result = await runCli(['run', '--driver', 'docker', '-v', 'data:/data', 'busybox', '--', 'sh', '-c', 'echo kept? > /data/f'], { env: { DRIVETRAIN_NAMESPACE_PREFIX: prefix } });
    expect(result.code).toBe(0);
    const { Volumes } = await docker.listVolumes({ filters: { label: [LABELS.managed] } });
    expect((Volumes ?? []).filter((v) => (v.Labels?.[LABELS.namespace] ?? '').startsWith(`${prefix}-`))).toEqual([]);
  });

  it('without --namespace runs in a random namespace starting with DRIVETRAIN_NAMESPACE_PREFIX', async () => {
    const prefix = testNamespace('pfx');
    const cli = spawnCli(['run', '--driver', 'docker', 'busybox', '--', 'sh', '-c', 'echo started; sleep 30'], { env: { DRIVETRAIN_NAMESPACE_PREFIX: prefix } });
    await cli.stdoutIncludes('started');
    const running = await docker.listContainers({ all: true, filters: { label: [LABELS.managed] } });
    const ours = running.map((c) => c.Labels[LABELS.namespace] ?? '').filter((ns) => ns.startsWith(`${prefix}-`));
    expect(ours).toEqual([expect.stringMatching(new RegExp(`^${prefix}-[0-9a-f]{8}$`))]);
    cli.child.kill('SIGTERM');
    expect((await cli.exited(15_000)).code).toBe(143);
    expect(await leftovers(ours[0]!)).toEqual([]);

    const bad = await runCli(['run', '--driver', 'docker', 'busybox', '--', 'true'], { env: { DRIVETRAIN_NAMESPACE_PREFIX: 'Not_valid' } });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('field: DRIVETRAIN_NAMESPACE_PREFIX');
  });

  it('passes the task\'s bytes through unchanged: invalid UTF-8, NUL, and a last line without a newline', async () => {
    const result = await runCli(['run', '--driver', 'docker', '--namespace', testNamespace('cli'), 'busybox', '--', 'sh', '-c', 'printf "\\377\\376\\000abc\\n"; seq 1 500 >/dev/null; printf last']);
    expect(result.code).toBe(0);
    expect(result.stdoutBytes.toString('hex')).toBe(Buffer.from('\xff\xfe\x00abc\nlast', 'latin1').toString('hex'));
  });

  it('exits 125 with the reason when the image is missing and cannot be pulled', async () => {
    const result = await runCli(['run', '--driver', 'docker', 'drivetrain-missing-image.invalid/none:1', '--', 'true'], { deadlineMs: 90_000 });
    expect(result.code).toBe(125);
    expect(result.stderr).toMatch(/^drivetrain: image "drivetrain-missing-image\.invalid\/none:1"/);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s stops the task, removes the container and exits %i', async (signal, code) => {
    const namespace = testNamespace('cli');
    const cli = spawnCli(['run', '--driver', 'docker', '--namespace', namespace, 'busybox', '--', 'sh', '-c', 'echo started; sleep 30']);
    await cli.stdoutIncludes('started');
    expect(await leftovers(namespace)).toHaveLength(1);
    const sentAt = Date.now();
    cli.child.kill(signal);
    const result = await cli.exited(15_000);
    expect(result.code).toBe(code);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(await leftovers(namespace)).toEqual([]);
  });

  it('stops and removes the task when the reader of its output goes away (exit 141)', async () => {
    const namespace = testNamespace('cli');
    const cli = spawnCli(['run', '--driver', 'docker', '--namespace', namespace, 'busybox', '--', 'sh', '-c', 'while true; do echo y; done']);
    await cli.stdoutIncludes('y\n');
    cli.child.stdout?.destroy();
    const result = await cli.exited(20_000);
    expect(result.code).toBe(141);
    expect(await leftovers(namespace)).toEqual([]);
  });
});
