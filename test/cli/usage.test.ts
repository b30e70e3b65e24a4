import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers.js';

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain --help and usage errors', { timeout: 150_000 }, () => {
  it('prints the top-level help with every command and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      for (const command of ['run', 'cleanup', 'conformance', 'doctor', 'demo']) expect(result.stdout).toContain(command);
      expect(result.stderr).toBe('');
    }
  });

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `drivetrain ${version}\n`, stderr: '' });
  });

  it.each(['run', 'cleanup', 'conformance', 'doctor', 'demo'])('prints the help of %s and exits 0', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: drivetrain ${command}`);
  });

  it.each([
    [[], 'missing command'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--quiet'], 'unknown option "--quiet"'],
    [['--verbose'], 'missing command'],
    [['run', '--bogus', 'busybox', '--', 'true'], "Unknown option '--bogus'"],
    [['run'], 'missing IMAGE'],
    [['run', 'busybox'], 'missing COMMAND'],
    [['run', '-e', 'NOEQUALS', 'busybox', '--', 'true'], '-e expects KEY=VALUE'],
    [['run', '-v', 'onlyname', 'busybox', '--', 'true'], '-v expects VOLUME:PATH[:ro]'],
    [['run', '--timeout', 'soon', 'busybox', '--', 'true'], '--timeout expects a positive number'],
    [['run', '--start-timeout', '0', 'busybox', '--', 'true'], '--start-timeout expects a positive number'],
    [['run', '--pull-timeout', 'x', 'busybox', '--', 'true'], '--pull-timeout expects a positive number'],
    [['run', '--driver', 'podman', 'busybox', '--', 'true'], 'unknown driver "podman"'],
    // Values the library refuses name the flag they came from, not the library's field.
    [['run', '-w', 'relative', 'busybox', '--', 'true'], 'invalid -w/--workdir "relative": expected an absolute path'],
    [['run', '--namespace', 'Bad_NS', 'busybox', '--', 'true'], 'invalid --namespace "Bad_NS": expected lower-case letters'],
    [['run', '-v', 'ok:/a', '-v', 'Bad:/b', 'busybox', '--', 'true'], 'invalid 2nd -v "Bad:/b": expected a volume name'],
    [['run', 'Not An Image', '--', 'true'], 'invalid IMAGE "Not An Image"'],
    [['cleanup', '--namespace', 'Bad_NS'], 'invalid --namespace "Bad_NS"'],
    [['run', '--id'], "argument missing"],
    [['cleanup'], 'missing --namespace'],
    [['conformance'], 'missing --driver'],
    [['conformance', '--driver', 'nomad'], 'unknown driver "nomad"'],
    [['doctor', '--driver', 'native'], 'unknown driver "native"'],
    [['demo', 'extra'], 'Unexpected argument'],
  ])('%j is a usage error (exit 2) saying what was wrong', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^drivetrain: /);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/task\.|options\./);
    expect(result.stderr).toContain('Usage: drivetrain');
    expect(result.stdout).toBe('');
  });
});
