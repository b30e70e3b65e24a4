import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { START_WAITING_CHANNEL } from '../../src/diagnostics.js';
import type { Driver } from '../../src/types.js';
import { runCli } from '../cli/helpers.js';
import { secretIn } from '../fuzz/secrets.js';
import { ALL_DRIVERS, openDriver, randomId, type DriverUnderTest } from './drivers.js';

/**
 * Env values are secrets: no error drivetrain throws carries one — not in its message or
 * stack, not in any field (enumerable or not), not down its `cause` chain — nor does any
 * diagnostics event or anything written to the console, on every path that fails with a
 * task in hand.
 */

const SECRET = `S3CR3T-${randomId('env')}`;

/** Every way a task with a secret env value can fail, each returning what it threw or ended with. */
function failingPaths(driver: Driver, under: DriverUnderTest): Array<[string, () => Promise<unknown>]> {
  const signal = (): AbortSignal => AbortSignal.timeout(under.budgetMs);
  const settle = (work: Promise<unknown>): Promise<unknown> => work.then((value) => value, (error: unknown) => error);
  const task = { image: 'busybox', command: ['true'] };
  return [
    ['env value with NUL', () => settle(driver.runContainer({ ...task, id: randomId('s'), env: { TOKEN: `${SECRET}\0` } }, { signal: signal() }))],
    ['env name with "="', () => settle(driver.runContainer({ ...task, id: randomId('s'), env: { 'TO=KEN': SECRET } }, { signal: signal() }))],
    ['env as one string', () => settle(driver.runContainer({ ...task, id: randomId('s'), env: `TOKEN=${SECRET}` as never }, { signal: signal() }))],
    ['another field invalid', () => settle(driver.runContainer({ ...task, id: randomId('s'), env: { TOKEN: SECRET }, workDir: 'relative' }, { signal: signal() }))],
    ['image that does not exist', () => settle(driver.runContainer({ ...task, id: randomId('s'), image: 'registry.invalid/none/none:1', env: { TOKEN: SECRET } }, { signal: signal() }).then((c) => c.wait({ signal: signal() })))],
    ['program that does not exist', () => settle(driver.runContainer({ ...task, id: randomId('s'), command: ['/no/such/program'], env: { TOKEN: SECRET } }, { signal: signal() }).then((c) => c.wait({ signal: signal() })))],
    [
      'sandbox exec: bad env, bad workDir, missing program',
      async () => {
        const sandbox = await driver.startSandbox!({ id: randomId('ssb'), image: 'busybox', env: { TOKEN: SECRET } }, { signal: signal() });
        return Promise.all([
          settle(sandbox.exec(['true'], { env: { TOKEN: `${SECRET}\0` }, signal: signal() })),
          settle(sandbox.exec(['true'], { env: { TOKEN: SECRET }, workDir: '\0', signal: signal() })),
          settle(sandbox.exec(['/no/such/program'], { env: { TOKEN: SECRET }, signal: signal() })),
        ]);
      },
    ],
  ];
}

describe('secret env values', () => {
  const written: string[] = [];
  const events: unknown[] = [];
  const onEvent = (event: unknown): void => void events.push(event);
  beforeEach(() => {
    written.length = 0;
    events.length = 0;
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' ')));
    }
    subscribe(START_WAITING_CHANNEL, onEvent);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    unsubscribe(START_WAITING_CHANNEL, onEvent);
  });

  describe.each(ALL_DRIVERS)('on $name', (under) => {
    it('are in no thrown error (any field, any cause), no final status, no diagnostics event and nothing on the console', { timeout: 240_000 }, async () => {
      const driver = openDriver(under);
      for (const [path, fail] of failingPaths(driver, under)) {
        const outcome = await fail();
        expect(secretIn(outcome, SECRET), path).toBe(false);
      }
      expect(secretIn(events, SECRET)).toBe(false);
      expect(written.filter((line) => line.includes(SECRET))).toEqual([]);
    });
  });

  it('the test would see one: a secret in an error\'s cause or field is found', () => {
    const inner = Object.assign(new Error('engine said no'), { body: { spec: { env: [{ value: SECRET }] } } });
    expect(secretIn(new Error('outer', { cause: inner }), SECRET)).toBe(true);
    expect(secretIn(Object.defineProperty(new Error('x'), 'hidden', { value: SECRET, enumerable: false }), SECRET)).toBe(true);
  });

  it('the CLI prints none: a bad -e, a failing run', { timeout: 120_000 }, async () => {
    for (const args of [
      ['run', '--driver', 'native', '-e', `=${SECRET}`, 'busybox', '--', 'true'],
      ['run', '--driver', 'native', '-e', SECRET, 'busybox', '--', 'true'],
      ['run', '--driver', 'native', '-e', `TOKEN=${SECRET}`, '-w', 'relative', 'busybox', '--', 'true'],
      ['run', '--driver', 'native', '-e', `TOKEN=${SECRET}`, 'busybox', '--', '/no/such/program'],
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
    }
  });
});
