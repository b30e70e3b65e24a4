import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, createDriver } from '../../src/index.js';
import { runCli, spawnCli } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

// The native driver runs host processes: busybox is only a name here.
const run = (...args: string[]) => runCli(['run', '--driver', 'native', ...args]);

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain run --driver native', { timeout: 150_000 }, () => {
  it('exits with the task exit code', async () => {
    expect((await run('busybox', '--', 'sh', '-c', 'exit 3')).code).toBe(3);
    expect((await run('busybox', '--', 'true')).code).toBe(0);
  });

  it('passes the task\'s bytes through unchanged: invalid UTF-8, NUL, and a last line without a newline', async () => {
    const result = await run('busybox', '--', 'sh', '-c', 'printf "\\377\\376\\000abc\\n"; printf last');
    expect(result.code).toBe(0);
    expect(result.stdoutBytes.toString('hex')).toBe(Buffer.from('\xff\xfe\x00abc\nlast', 'latin1').toString('hex'));
  });

  it('prints what the driver does on stderr with --verbose (before or after the command), never an env value; nothing without it', async () => {
    const namespace = testNamespace('cli');
    const secret = 'verbose-secret-value';
    const verbose = await runCli(['--verbose', 'run', '--driver', 'native', '--namespace', namespace, '--id', 'told', '-e', `TOKEN=${secret}`, 'busybox', '--', 'sh', '-c', 'echo out']);
    expect(verbose).toMatchObject({ code: 0, stdout: 'out\n' });
    const lines = verbose.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toEqual(
      expect.arrayContaining([
        `drivetrain: [native ${namespace}] task "told" starting (image busybox)`,
        expect.stringMatching(new RegExp(`^drivetrain: \\[native ${namespace}\\] task "told" started in \\d+ ms$`)),
        `drivetrain: [native ${namespace}] task "told" ended with exit code 0 (Completed)`,
        expect.stringMatching(new RegExp(`^drivetrain: \\[native ${namespace}\\] task "told" removed in \\d+ ms$`)),
      ]),
    );
    expect(verbose.stderr).not.toContain(secret);
    const after = await runCli(['run', '--driver', 'native', '--verbose', 'busybox', '--', 'sh', '-c', 'echo --verbose']);
    expect(after).toMatchObject({ code: 0, stdout: '--verbose\n' });
    expect(after.stderr).toMatch(/ended with exit code 0.*\n.*removed in .*\n.*closing namespace/);
    expect((await run('busybox', '--', 'true')).stderr).toBe('');
  });

  it('keeps stdout and stderr apart', async () => {
    const result = await run('busybox', '--', 'sh', '-c', 'echo to-out; echo to-err >&2');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('to-out\n');
    expect(result.stderr).toBe('to-err\n');
  });

  it('streams its stdin to the task with -i, and none without', async () => {
    const withStdin = await runCli(['run', '--driver', 'native', '-i', 'busybox', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello stdin\n' });
    expect(withStdin.code).toBe(0);
    expect(withStdin.stdout).toBe('HELLO STDIN\n');
    const without = await runCli(['run', '--driver', 'native', 'busybox', '--', 'sh', '-c', 'wc -c'], { input: 'ignored\n' });
    expect(without.stdout.trim()).toBe('0');
  });

  it('passes -e variables, and only those', async () => {
    const result = await runCli(['run', '--driver', 'native', '-e', 'GREETING=hi there', '-e', 'EMPTY=', 'busybox', '--', 'sh', '-c', 'echo "$GREETING|$EMPTY|${CLI_TEST_SECRET:-unset}"'], {
      env: { CLI_TEST_SECRET: 'leaked' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('hi there||unset\n');
  });

  it('exits 127 and names a command that is not found, as docker run does', async () => {
    expect(await run('busybox', '--', 'nonexistent-cmd')).toMatchObject({
      code: 127,
      stdout: '',
      stderr: 'drivetrain: "nonexistent-cmd": command not found (ContainerCannotRun, exit 127)\n',
    });
  });

  it('keeps the volumes of a namespace given with --namespace for the next run, until cleanup', async () => {
    const namespace = testNamespace('cli');
    const count = ['busybox', '--', 'sh', '-c', 'echo run >> cache/runs; wc -l < cache/runs'];
    expect(await run('--namespace', namespace, '-v', 'cache:cache', ...count)).toMatchObject({ code: 0, stdout: '1\n' });
    expect(await run('--namespace', namespace, '-v', 'cache:cache', ...count)).toMatchObject({ code: 0, stdout: '2\n' });
    expect((await runCli(['cleanup', '--driver', 'native', '--namespace', namespace])).code).toBe(0);
    expect(await run('--namespace', namespace, '-v', 'cache:cache', ...count)).toMatchObject({ code: 0, stdout: '1\n' });
    expect((await runCli(['cleanup', '--driver', 'native', '--namespace', namespace])).code).toBe(0);
  });

  it('reports a killed task with 128+n, never 0', async () => {
    const result = await run('busybox', '--', 'sh', '-c', 'kill -9 $$');
    expect(result.code).toBe(137);
  });

  it('kills a task past --timeout and says why', async () => {
    const started = Date.now();
    const result = await run('--timeout', '0.5', 'busybox', '--', 'sleep', '30');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DeadlineExceeded');
  });

  it('on SIGINT stops the process, removes the task and exits 130', async () => {
    const namespace = testNamespace('cli');
    // A sleep length no other process has, to find it among the host's processes.
    const sleep = `sleep 29.${Math.floor(Math.random() * 1e6)}`;
    const cli = spawnCli(['run', '--driver', 'native', '--namespace', namespace, '--id', 'sleeper', 'busybox', '--', 'sh', '-c', `echo started; exec ${sleep}`]);
    await cli.stdoutIncludes('started');
    // Anchored: the CLI's own command line contains the text too.
    const running = (): boolean => spawnSync('pgrep', ['-f', `^${sleep.replace('.', '\\.')}$`]).status === 0;
    // `started` is printed just before the exec: give the exec a moment.
    for (const deadline = Date.now() + 10_000; !running() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toBe(true);
    const sentAt = Date.now();
    cli.child.kill('SIGINT');
    const result = await cli.exited(15_000);
    expect(result.code).toBe(130);
    expect(running()).toBe(false);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    const driver = await createDriver('native', { namespace });
    try {
      await expect(driver.getContainer('sleeper')).rejects.toBeInstanceOf(ContainerNotFoundError);
    } finally {
      await driver.close();
    }
  });
});
