import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/index.js';
import { ROOT, runCli } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * The `drivetrain` command as the package installs it: the bundle of the CLI and its drivers
 * that `npm run build` makes (`make test` builds first), its SDKs loaded from node_modules.
 */
const bundled = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(args, { ...options, bundled: true });

/** Prints, at exit, every drivetrain file the process loaded (a module hook, on stderr's last line). */
const RECORD_LOADED = `data:text/javascript,${encodeURIComponent(
  `import { registerHooks } from 'node:module'; const seen = []; registerHooks({ load(url, context, next) { if (url.includes('/dist/')) seen.push(url.slice(url.indexOf('/dist/') + 1)); return next(url, context); } }); process.on('exit', () => process.stderr.write('\\nloaded ' + JSON.stringify(seen) + '\\n'));`,
)}`;

describe('the bundled drivetrain command', { timeout: 150_000 }, () => {
  it('prints the package version and the usage', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await bundled(['--version'])).toMatchObject({ code: 0, stdout: `drivetrain ${version}\n`, stderr: '' });
    expect(await bundled(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: drivetrain <command>') });
  });

  it("--help loads none of the Node internals that built-ins' ES module facades would (fs/promises, readline, worker_threads, undici)", async () => {
    const recordBuiltins = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));")}`;
    const result = await bundled(['--help'], { nodeArgs: ['--import', recordBuiltins] });
    expect(result.code).toBe(0);
    const loaded = JSON.parse(result.stderr) as string[];
    expect(loaded.filter((name) => /internal\/fs\/promises|readline|worker_threads|undici/.test(name))).toEqual([]);
  });

  it('runs without its compile cache where the temporary directory is missing or cannot hold one, and creates no directory', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'drivetrain-cache-'));
    try {
      const missing = join(scratch, 'missing');
      // Under /proc, mkdir answers ENOENT below a parent that exists: Node's recursive mkdir loops on it.
      for (const dir of [missing, '/proc/drivetrain-nonexistent']) {
        expect(await bundled(['--version'], { env: { TMPDIR: dir }, deadlineMs: 30_000 }), dir).toMatchObject({ code: 0, stderr: '' });
      }
      expect(existsSync(missing)).toBe(false);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('runs a task on the default driver from the bundle alone: exact bytes, exit code, nothing left behind', async () => {
    const prefix = testNamespace('bnd');
    const result = await bundled(['run', 'busybox', '--', 'sh', '-c', 'printf "\\377a\\n"; echo err >&2; printf last; exit 3'], {
      env: { DRIVETRAIN_NAMESPACE_PREFIX: prefix },
      nodeArgs: ['--import', RECORD_LOADED],
    });
    expect(result.code).toBe(3);
    expect(result.stdoutBytes.toString('hex')).toBe(Buffer.from('\xffa\nlast', 'latin1').toString('hex'));
    const [output, loadedLine] = result.stderr.split('\nloaded ');
    expect(output).toBe('err\n');
    const loaded = JSON.parse(loadedLine ?? '[]') as string[];
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((file) => !file.startsWith('dist/bundle/cli/'))).toEqual([]);
    const docker = new Docker();
    const mine = (labels: Record<string, string> | null | undefined): boolean => (labels?.[LABELS.namespace] ?? '').startsWith(`${prefix}-`);
    const filters = { label: [LABELS.managed] };
    expect((await docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels))).toEqual([]);
    expect(((await docker.listVolumes({ filters })).Volumes ?? []).filter((v) => mine(v.Labels))).toEqual([]);
  });
});
