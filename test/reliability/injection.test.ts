import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CollectingWritable, readLogs } from '../../src/logs.js';
import { isWellFormedText } from '../../src/validate.js';
import { PROBE, parseProbe } from '../fuzz/probe.js';
import { ALL_DRIVERS, openDriver, randomId, type DriverUnderTest } from './drivers.js';

/**
 * No shell injection through any task or exec field, on the real engines: a handful of
 * runs per driver, each carrying many strings generated with shell metacharacters (seeded,
 * so a failure replays) in its arguments, environment values and working directory. The
 * command is a probe that reports exactly what it received.
 */

const META = ['$', '$(id)', '`id`', ';', '&', '|', '>', '<', '*', '?', '~', '#', '!', '"', "'", '\\', '\n', ' ', '\t', '=', '-', '--', '-i', '%s', '{a,b}', '(', ')', 'é', 'a'];
const metaText = fc.array(fc.constantFrom(...META), { maxLength: 8 }).map((parts) => parts.join(''));
const hostile = fc.oneof(metaText, fc.string({ unit: 'grapheme', maxLength: 8 })).filter((s) => !s.includes('\0') && !s.includes('\u0001') && isWellFormedText(s));
/** Directory names for `workDir`: shell metacharacters, but no `/`, `.` or `..` (paths are normalised). */
const dirName = metaText.filter((s) => s !== '' && !s.includes('/') && s !== '.' && s !== '..' && !s.includes('\n'));

function sample<T>(arbitrary: fc.Arbitrary<T>, count: number, seed: number): T[] {
  return fc.sample(arbitrary, { numRuns: count, seed });
}

/** Environment names beside plain ones: option-like names that `env` must take as variables. */
function envOf(values: string[]): Record<string, string> {
  const env: Record<string, string> = { '-u': values[0] ?? '', '--chdir': values[1] ?? '' };
  values.forEach((value, i) => (env[`FUZZ_${i}`] = value));
  return env;
}

function expectReceived(seen: ReturnType<typeof parseProbe>, args: string[], env: Record<string, string>, workDir: string): void {
  expect(seen.cwd).toBe(workDir);
  expect(seen.args).toEqual(args);
  for (const [name, value] of Object.entries(env)) expect(seen.env.get(name), name).toBe(value);
}

describe.each(ALL_DRIVERS)('shell metacharacters on $name', (under: DriverUnderTest) => {
  const budget = (): AbortSignal => AbortSignal.timeout(under.budgetMs);

  it('a task receives its arguments, env values and workDir exactly', { timeout: 180_000 }, async () => {
    const driver = openDriver(under);
    for (const seed of [1, 2]) {
      const args = sample(hostile, 40, seed);
      const env = envOf(sample(hostile, 20, seed + 100));
      const workDir = `/tmp/dt-inj/${sample(dirName, 3, seed + 200).join('/')}`;
      const container = await driver.runContainer({ id: randomId(`inj${seed}`), image: 'busybox', command: [...PROBE, ...args], env, workDir }, { signal: budget() });
      expect(await container.wait({ signal: budget() })).toMatchObject({ exitCode: 0 });
      const { stdout } = await readLogs(container, { signal: budget() });
      // The native driver runs the task in its own tree: workDir is a path inside it.
      const seen = parseProbe(stdout);
      expectReceived(seen, args, env, under.name === 'native' ? seen.cwd : workDir);
      if (under.name === 'native') expect(seen.cwd.endsWith(workDir)).toBe(true);
    }
  });

  it('a sandbox exec receives its arguments, env values and workDir exactly', { timeout: 180_000 }, async () => {
    const driver = openDriver(under);
    const sandbox = await driver.startSandbox!({ id: randomId('injsb'), image: 'busybox', workDir: '/tmp/dt-injsb' }, { signal: budget() });
    for (const seed of [3, 4, 5]) {
      const dirs = sample(dirName, 2, seed + 200);
      const made = await sandbox.exec(['mkdir', '-p', '--', dirs.join('/')], { signal: budget() });
      expect(made.exitCode).toBe(0);
      const args = sample(hostile, 40, seed);
      const env = envOf(sample(hostile, 20, seed + 100));
      const stdout = new CollectingWritable();
      const status = await sandbox.exec([...PROBE, ...args], { env, workDir: dirs.join('/'), stdout, signal: budget() });
      expect(status.exitCode).toBe(0);
      const seen = parseProbe(stdout.text());
      expectReceived(seen, args, env, under.name === 'native' ? seen.cwd : `/tmp/dt-injsb/${dirs.join('/')}`);
      if (under.name === 'native') expect(seen.cwd.endsWith(`/tmp/dt-injsb/${dirs.join('/')}`)).toBe(true);
    }
  });
});
