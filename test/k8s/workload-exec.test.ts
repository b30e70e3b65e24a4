import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createK8sDriver, type K8sDriver } from '../../drivers/k8s/index.js';
import { InvalidInputError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import type { Sandbox } from '../../src/types.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * `execInWorkload`'s `env` and `workDir`, as the conformance suite checks a sandbox exec's
 * (test/conformance/sandbox.ts): they apply to one exec only, a relative `workDir` starts from
 * the container's working directory, and bad values are refused with the sandbox exec's errors.
 * The workload is a pod of the local cluster picked by a label selector (a sandbox's, which
 * the test then addresses only as a workload).
 */

const TIMEOUT = 90_000;
let driver: K8sDriver;
let sandbox: Sandbox;
let selector: string;

beforeAll(async () => {
  driver = createK8sDriver({ kubeconfig: inject('kubeconfig'), namespace: testNamespace('k8wl') }) as K8sDriver;
  sandbox = await driver.startSandbox({ id: 'workload', image: 'busybox' }, { signal: AbortSignal.timeout(TIMEOUT) });
  selector = `drivetrain.dev/namespace=${driver.namespace},drivetrain.dev/role=sandbox`;
}, TIMEOUT);

afterAll(async () => {
  await driver.close({ signal: AbortSignal.timeout(60_000) });
}, TIMEOUT);

/** Runs `command` in the workload; its exit code and output. */
async function run(command: readonly string[], options: { env?: Record<string, string>; workDir?: string } = {}): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  const status = await driver.execInWorkload({ labelSelector: selector, command, ...options, stdout, stderr, signal: AbortSignal.timeout(TIMEOUT) });
  expect(status.done).toBe(true);
  return { exitCode: status.exitCode, stdout: stdout.text(), stderr: stderr.text() };
}

describe('execInWorkload env and workDir (local cluster)', () => {
  it('env and workDir apply to one exec only; a relative workDir starts from the container’s working directory', async () => {
    const script = 'printf "%s|%s" "${FOO-unset}" "$(pwd)"';
    expect(await run(['sh', '-c', script], { env: { FOO: 'bar' }, workDir: '/tmp' })).toEqual({ exitCode: 0, stdout: 'bar|/tmp', stderr: '' });
    const plain = await run(['sh', '-c', script]);
    expect(plain.exitCode).toBe(0);
    const [foo, pwd] = plain.stdout.split('|');
    expect(foo).toBe('unset');
    expect(pwd).not.toBe('/tmp');
    expect(pwd).toMatch(/^\//);
    const relative = await run(['sh', '-c', 'mkdir -p sub; cd sub && pwd']);
    expect(relative.stdout).toBe(`${pwd === '/' ? '' : pwd}/sub\n`);
    expect(await run(['pwd'], { workDir: 'sub' })).toEqual({ exitCode: 0, stdout: relative.stdout, stderr: '' });
  }, TIMEOUT);

  it('values and names reach the command as they are: spaces, quotes, $, a name like an option; an exec without them runs the command itself', async () => {
    const value = `a b 'q' "d" $HOME \\ ;|&`;
    expect(await run(['sh', '-c', 'printf %s "$V"'], { env: { V: value } })).toEqual({ exitCode: 0, stdout: value, stderr: '' });
    // A shell would drop a variable whose name is no identifier: `env` itself prints it.
    const listed = await run(['env'], { env: { '-u': 'x' } });
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toMatch(/^-u=x$/m);
    // With a workDir too, through the shell wrapper.
    expect(await run(['sh', '-c', 'printf %s "$V"'], { env: { V: value }, workDir: '/' })).toEqual({ exitCode: 0, stdout: value, stderr: '' });
    // Without env or workDir no wrapper runs: the command's own argv[0].
    expect(await run(['sh', '-c', 'printf %s "$0"'])).toEqual({ exitCode: 0, stdout: 'sh', stderr: '' });
  }, TIMEOUT);

  it('a workDir that does not exist ends the exec with 126, as in a sandbox', async () => {
    const missing = `/nonexistent-${randomBytes(3).toString('hex')}`;
    const inWorkload = await run(['true'], { workDir: missing });
    expect(inWorkload.exitCode).toBe(126);
    expect(inWorkload.stderr).toContain(missing);
    const inSandbox = await sandbox.exec(['true'], { workDir: missing, signal: AbortSignal.timeout(TIMEOUT) });
    expect(inSandbox.exitCode).toBe(126);
  }, TIMEOUT);

  it.each([
    ['an env key with "="', { env: { 'A=B': 'x' } }, ['true'], 'options.env key "A=B"'],
    ['an env value with NUL', { env: { A: 'x\0y' } }, ['true'], 'options.env.A'],
    ['env not an object', { env: 'A=b' as unknown as Record<string, string> }, ['true'], 'options.env'],
    ['an empty workDir', { workDir: '' }, ['true'], 'options.workDir'],
    ['a workDir with NUL', { workDir: '/tmp\0x' }, ['true'], 'options.workDir'],
    ['a program name with "=" when env is set', { env: { A: 'b' } }, ['X=y', 'true'], 'command[0]'],
    ['an empty command', {}, [], 'command'],
  ])('%s: InvalidInputError on the same field as a sandbox exec, before any request', async (_, options, command, field) => {
    const fromWorkload = await driver.execInWorkload({ labelSelector: 'app=never-asked', command, ...options }).catch((error: unknown) => error);
    expect(fromWorkload).toBeInstanceOf(InvalidInputError);
    expect((fromWorkload as InvalidInputError).field).toBe(field);
    const fromSandbox = await sandbox.exec(command, options).catch((error: unknown) => error);
    expect((fromSandbox as InvalidInputError).field).toBe(field);
  });
});
