import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { readLogs } from '../../src/logs.js';
import { ALL_DRIVERS, openDriver, randomId, sh, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `drivetrain cleanup --namespace <namespace> --driver <driver>` from source; resolves with its exit code and output. */
function cliCleanup(driver: string, namespace: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'cleanup', '--namespace', namespace, '--driver', driver],
      { cwd: ROOT, env: { ...process.env, KUBECONFIG: inject('kubeconfig') }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, output: stdout + stderr }),
    );
  });
}

describe.each(ALL_DRIVERS)('security on $name', (under: DriverUnderTest) => {
  const budget = (): AbortSignal => AbortSignal.timeout(under.budgetMs);

  it("close() and `drivetrain cleanup` of namespace A never touch namespace B's running task", { timeout: 240_000 }, async () => {
    const namespaceA = testNamespace('rsa');
    const a = openDriver(under, namespaceA);
    const b = openDriver(under, testNamespace('rsb'));
    // B's task outlives A's close and the CLI run: it waits for a line on stdin, given only afterwards.
    const release = new PassThrough();
    const victim = await b.runContainer({ id: 'shared-id', image: 'busybox', command: sh('echo start; read word; echo "got $word"; exit 7'), stdin: release }, { signal: budget() });
    await a.runContainer({ id: 'shared-id', image: 'busybox', command: ['sleep', '300'] }, { signal: budget() });
    await a.close({ signal: budget() });
    expect(await under.countTasks(namespaceA)).toBe(0);
    const cli = await cliCleanup(under.name, namespaceA);
    expect(cli.code, cli.output).toBe(0);
    expect((await victim.status({ signal: budget() })).done).toBe(false);
    release.end('go\n');
    expect(await victim.wait({ signal: budget() })).toMatchObject({ done: true, exitCode: 7 });
    expect((await readLogs(victim, { signal: budget() })).stdout).toBe('start\ngot go\n');
  });
});

describe('secrets in env never reach drivetrain\'s own output', () => {
  const SECRET = `hunter2-${randomId('secret')}`;
  const written: string[] = [];
  beforeEach(() => {
    written.length = 0;
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' ')));
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(ALL_DRIVERS)('$name: failed validation, failed start and a failing task keep the value out of errors and console', async (under) => {
    const driver = openDriver(under);
    const signal = AbortSignal.timeout(under.budgetMs);
    const env = { API_TOKEN: SECRET, [`BAD=${'x'}`]: SECRET };
    const errors: unknown[] = [];
    await driver.runContainer({ id: randomId('sec'), image: 'busybox', command: ['true'], env }, { signal }).catch((e: unknown) => errors.push(e));
    await driver.runContainer({ id: randomId('sec'), image: 'busybox', command: ['true'], env: { API_TOKEN: `${SECRET}\0` } }, { signal }).catch((e: unknown) => errors.push(e));
    await driver
      .runContainer({ id: randomId('sec'), image: 'registry.invalid/none/none:1', command: ['true'], env: { API_TOKEN: SECRET } }, { signal })
      .then((c) => c.wait({ signal }))
      .catch((e: unknown) => errors.push(e));
    const failing = await driver.runContainer({ id: randomId('sec'), image: 'busybox', command: ['/no/such/program'], env: { API_TOKEN: SECRET } }, { signal }).catch((e: unknown) => e);
    if (failing instanceof Error) errors.push(failing);
    else errors.push(await (failing as Awaited<ReturnType<typeof driver.runContainer>>).wait({ signal }));
    expect(errors.length).toBeGreaterThanOrEqual(3);
    const seen = errors.map((e) => (e instanceof Error ? `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${String((e as { cause?: unknown }).cause)}` : JSON.stringify(e)));
    for (const text of [...seen, ...written]) expect(text).not.toContain(SECRET);
  }, 120_000);
});
