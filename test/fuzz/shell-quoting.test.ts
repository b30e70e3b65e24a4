import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxExecArgv } from '../../drivers/k8s/exec-argv.js';
import { escapeExpansion } from '../../drivers/k8s/pod-spec.js';
import { isWellFormedText } from '../../src/validate.js';
import { checkProperty } from './budget.js';
import { parseProbe, PROBE, type Probed } from './probe.js';

/**
 * The k8s sandbox's exec wrapper (`sh -c <constant script> … NAME=value … command`) run for
 * real on this host by dash and by busybox (the shell of the images drivetrain is tested
 * with), with shell metacharacters in every field: the command must receive exactly its
 * argv, environment and working directory, whatever they hold.
 */

/** Text rich in what shells and `env` treat specially. */
const META = ['$', '$(id)', '`id`', ';', '&', '|', '>', '<', '*', '?', '~', '#', '!', '"', "'", '\\', '\n', ' ', '\t', '=', '-', '--', '-i', '-u', '--chdir=/', '-S', '%s', '{a,b}', '[', ']', '(', ')', 'é', 'a'];
const metaText = (maxLength: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...META), { maxLength }).map((parts) => parts.join(''));
const text = (maxLength: number): fc.Arbitrary<string> => fc.oneof(metaText(maxLength), fc.string({ unit: 'grapheme', maxLength })).filter((s) => !s.includes('\0') && !s.includes('\u0001') && isWellFormedText(s));
/** Environment names as validation accepts them: anything but `=` and NUL, non-empty. */
const envName = fc.oneof(metaText(3), fc.stringMatching(/^[A-Z_]{1,6}$/)).filter((k) => k !== '' && !k.includes('=') && !k.includes('\0'));

/** Working directories with hostile names, made before the properties run. */
const DIR_NAMES = ['plain', 'a b', '$(id)', '`id`', "it's", '"q"', '-n', '--', '*', 'new\nline', ';x', 'é'];
let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'dt-fuzz-sh-'));
  await Promise.all(DIR_NAMES.map((name) => mkdir(join(base, name))));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function runWrapper(shell: 'dash' | 'busybox', argv: string[]): Promise<Probed & { code: number }> {
  const [file, ...rest] = shell === 'dash' ? argv : ['busybox', ...argv];
  return new Promise((resolve) => {
    execFile(file as string, rest, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'buffer', timeout: 20_000 }, (error, stdout) => {
      resolve({ ...parseProbe(stdout.toString('utf8')), code: error ? Number((error as { code?: number }).code ?? -1) : 0 });
    });
  });
}

describe('k8s sandbox exec wrapper', () => {
  for (const shell of ['dash', 'busybox'] as const) {
    it(`${shell}: the command gets exactly its arguments, environment and working directory`, async () => {
      await checkProperty(`shell quoting: k8s exec wrapper under ${shell}`, 'stream', fc.asyncProperty(fc.array(text(8), { maxLength: 5 }), fc.dictionary(envName, text(8), { maxKeys: 4 }), fc.constantFrom(...DIR_NAMES), async (args, env, dir) => {
        const workDir = join(base, dir);
        const seen = await runWrapper(shell, sandboxExecArgv([...PROBE, ...args], workDir, env));
        if (seen.code !== 0 || seen.cwd !== workDir || JSON.stringify(seen.args) !== JSON.stringify(args)) return false;
        return Object.entries(env).every(([name, value]) => seen.env.get(name) === value);
      }));
    });
  }

  it('regression: an env name that looks like an option of `env` is a variable, not an option', async () => {
    for (const env of [{ '-i': 'x' }, { '--chdir': '/' }, { '-u': 'PATH' }] as Array<Record<string, string>>) {
      const seen = await runWrapper('dash', sandboxExecArgv(PROBE, join(base, 'plain'), env));
      expect(seen.code).toBe(0);
      expect(seen.cwd).toBe(join(base, 'plain'));
      expect(seen.env.get(Object.keys(env)[0] as string)).toBe(Object.values(env)[0]);
    }
  });
});

/**
 * Kubernetes' `$(VAR)` expansion of command, args and env values, written from
 * kubernetes/kubernetes third_party/forked/golang/expansion/expand.go (Expand, tryReadVariableName):
 * `$$` is a literal `$`; `$(name)` is replaced when `name` is defined, else kept as written;
 * any other `$` is kept.
 */
function kubeExpand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor += 1) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let read: string;
    let consumed: number;
    let isVariable = false;
    if (next === '$') {
      read = '$';
      consumed = 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        read = '$(';
        consumed = 1;
      } else {
        read = input.slice(cursor + 2, close);
        consumed = close - cursor;
        isVariable = true;
      }
    } else {
      read = `$${next}`;
      consumed = 1;
    }
    out += isVariable ? (vars.has(read) ? (vars.get(read) as string) : `$(${read})`) : read;
    cursor += consumed;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

describe('Kubernetes $(VAR) expansion', () => {
  it('a task\'s command, args and env values reach the process verbatim, whatever variables exist', async () => {
    await checkProperty('shell quoting: $(VAR) escaping', 'pure', fc.property(text(16), fc.dictionary(fc.constantFrom('A', 'B', 'HOME', 'id', '$'), text(6)), (value, vars) => kubeExpand(escapeExpansion(value), new Map(Object.entries(vars))) === value));
  });

  it('the oracle expands as Kubernetes does', () => {
    const vars = new Map([['A', 'x']]);
    expect(kubeExpand('$(A)-$$(A)-$(B)-$-$(', vars)).toBe('x-$(A)-$(B)-$-$(');
  });
});
