import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testNamespace } from '../setup/test-run.js';
import { ROOT, consumerEnv, installConsumer, packPackage, run, type Packed } from './consumer.js';
import { BUNDLED_BIN } from '../cli/helpers.js';

/**
 * The package as others install it: `npm pack`, then `npm ci` of the tarball into empty
 * projects, one per way to use it — native only (neither SDK installed), docker, k8s, and
 * the conformance suite on the project's own vitest — each run as its user would.
 */

/** What each consumer project installs besides drivetrain. */
const CONSUMERS = {
  native: ['@types/node'],
  docker: ['dockerode'],
  k8s: ['@kubernetes/client-node'],
  conformance: ['vitest', '@types/node'],
} as const;
type Consumer = keyof typeof CONSUMERS;

/**
 * Runs a task through `createDriver(DRIVER)` and prints its output, then tries the other
 * built-in drivers and prints how each failed (a consumer has only its own driver's SDK).
 */
const USE_DRIVER = `
import { createDriver, readLogs } from 'drivetrain';
const name = process.env.DRIVER;
const driver = await createDriver(name, { namespace: process.env.NAMESPACE, ...(name === 'k8s' ? { kubeconfig: process.env.KUBECONFIG } : {}) });
try {
  const container = await driver.runContainer({ id: 'hello', image: 'busybox', command: ['sh', '-c', 'echo hello from ' + name] }, { signal: AbortSignal.timeout(90_000) });
  const status = await container.wait({ signal: AbortSignal.timeout(90_000) });
  process.stdout.write((await readLogs(container)).stdout + 'exit ' + status.exitCode + '\\n');
} finally {
  await driver.close();
}
for (const other of ['docker', 'k8s'].filter((other) => other !== name)) {
  await createDriver(other).then(
    (unexpected) => console.log(other + ': created'),
    (error) => console.log(other + ': ' + error.name + ' ' + error.packageName),
  );
}
`;

const NATIVE_CONFORMANCE_TEST = `
import { randomBytes } from 'node:crypto';
import { testDriver } from 'drivetrain/conformance';
import { createNativeDriver } from 'drivetrain/native';

testDriver({
  name: 'native, installed',
  namespace: () => process.env.NAMESPACE_PREFIX + '-' + randomBytes(4).toString('hex'),
  create: (namespace) => createNativeDriver({ namespace }),
});
`;

let scratch: string;
let packed: Packed;
const consumers = {} as Record<Consumer, string>;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drivetrain-package-'));
  packed = await packPackage(scratch);
  await Promise.all(
    (Object.keys(CONSUMERS) as Consumer[]).map(async (consumer) => {
      consumers[consumer] = join(scratch, consumer);
      await installConsumer(consumers[consumer], [packed], CONSUMERS[consumer]);
    }),
  );
}, 600_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

/** Runs `script` as a module in a consumer project on this Node. */
async function runScript(consumer: Consumer, script: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(consumers[consumer], 'script.mjs');
  await writeFile(file, script);
  return run(process.execPath, [file], { cwd: consumers[consumer], env: consumerEnv(env) });
}

/** Runs the installed `drivetrain` command of a consumer project. */
function drivetrain(consumer: Consumer, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [join(consumers[consumer], 'node_modules', '.bin', 'drivetrain'), ...args], { cwd: consumers[consumer], env: consumerEnv(env), timeoutMs: 300_000 });
}

/** Type-checks `files` of a consumer project with this checkout's TypeScript, library declarations included. */
async function typecheck(consumer: Consumer, files: Record<string, string>) {
  const dir = consumers[consumer];
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }));
  return run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir });
}

describe('the published package', { timeout: 300_000 }, () => {
  it('holds the build of the library, the drivers, the conformance suite (with the test helpers it uses) and the bundled command, a LICENSE, and no tests or local cluster', () => {
    const outside = packed.files.filter((file) => !/^dist\/(src|drivers|test\/conformance|test\/support|bundle\/cli)\//.test(file));
    expect(outside.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(packed.files.filter((file) => /\.test\.|k8s-server|\/fixtures\//.test(file))).toEqual([]);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    // Every compiled file comes from a source file of the checkout: nothing stale from an older build.
    const stale = packed.files.filter((file) => /^dist\/(?!bundle\/)/.test(file) && !existsSync(join(ROOT, file.slice('dist/'.length).replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts'))));
    expect(stale).toEqual([]);
    // The bundle's files are named by their content: exactly the ones this build made.
    const bundled = packed.files.filter((file) => file.startsWith('dist/bundle/')).sort();
    expect(bundled).toContain(BUNDLED_BIN);
    expect(bundled).toEqual(readdirSync(join(ROOT, 'dist/bundle/cli')).map((file) => `dist/bundle/cli/${file}`).sort());
  });

  it('ships every source map with its sources inside', () => {
    const maps = packed.files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBe(packed.files.filter((file) => file.endsWith('.js')).length);
    const installed = join(consumers.native, 'node_modules', 'drivetrain');
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(installed, file), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(map.sourcesContent?.every((text) => typeof text === 'string' && text.length > 0), file).toBe(true);
    }
  });
});

describe('installed without any SDK (native only)', { timeout: 300_000 }, () => {
  it('runs a task with the native driver; the docker and k8s drivers name the package to install', async () => {
    const result = await runScript('native', USE_DRIVER, { DRIVER: 'native', NAMESPACE: testNamespace('pkg') });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('hello from native\nexit 0\ndocker: MissingDependencyError dockerode\nk8s: MissingDependencyError @kubernetes/client-node\n');
    expect(existsSync(join(consumers.native, 'node_modules', 'dockerode'))).toBe(false);
    expect(existsSync(join(consumers.native, 'node_modules', '@kubernetes'))).toBe(false);
  });

  it('has a working drivetrain command', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    expect(await drivetrain('native', ['--version'])).toMatchObject({ code: 0, stdout: `drivetrain ${version}\n` });
    const ran = await drivetrain('native', ['run', '--driver', 'native', '--namespace', testNamespace('pkg'), 'busybox', '--', 'echo', 'hi']);
    expect(ran).toMatchObject({ code: 0, stdout: 'hi\n', stderr: '' });
    // Without --driver, a missing dockerode means no engine to ask: native runs it.
    const chosen = await drivetrain('native', ['run', '--namespace', testNamespace('pkg'), 'busybox', '--', 'echo', 'chosen']);
    expect(chosen).toMatchObject({ code: 0, stdout: 'chosen\n', stderr: '' });
    const docker = await drivetrain('native', ['run', '--driver', 'docker', 'busybox', '--', 'true']);
    expect(docker.code).toBe(125);
    expect(docker.stderr).toContain('the docker driver needs the package "dockerode", which is not installed: npm install dockerode');
  });

  it('type-checks against the library without the SDKs, and a use of drivetrain/conformance without vitest does not', async () => {
    const uses = `import { createDriver, type Driver } from 'drivetrain';\nimport { createNativeDriver } from 'drivetrain/native';\nconst driver: Driver = createNativeDriver();\nvoid createDriver('native').then((d) => d.close());\nvoid driver.close();\n`;
    expect(await typecheck('native', { 'uses.ts': uses })).toMatchObject({ code: 0, stdout: '' });
    const conformance = `import { testDriver } from 'drivetrain/conformance';\nimport { createNativeDriver } from 'drivetrain/native';\ntestDriver({ name: 'n', create: (namespace) => createNativeDriver({ namespace }) });\n`;
    const refused = await typecheck('native', { 'conformance.ts': conformance });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toMatch(/Cannot find type definition file for 'vitest'/);
  });
});

describe('installed with dockerode', { timeout: 300_000 }, () => {
  it('runs a task with the docker driver; the k8s driver names its package', async () => {
    const result = await runScript('docker', USE_DRIVER, { DRIVER: 'docker', NAMESPACE: testNamespace('pkg') });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('hello from docker\nexit 0\nk8s: MissingDependencyError @kubernetes/client-node\n');
  });
});

describe('installed with @kubernetes/client-node', { timeout: 300_000 }, () => {
  it('runs a task with the k8s driver (the local API server); the docker driver names its package', async () => {
    const result = await runScript('k8s', USE_DRIVER, { DRIVER: 'k8s', NAMESPACE: testNamespace('pkg'), KUBECONFIG: inject('kubeconfig') });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('hello from k8s\nexit 0\ndocker: MissingDependencyError dockerode\n');
  });
});

describe('installed with vitest: the conformance suite', { timeout: 300_000 }, () => {
  // Native conformance needs no engine: an unreachable DOCKER_HOST proves none is asked for.
  const noEngine = { DOCKER_HOST: 'unix:///nonexistent/drivetrain-package-test.sock' };

  it("runs on the project's own vitest, against the native driver, without an engine", async () => {
    await writeFile(join(consumers.conformance, 'native.test.js'), NATIVE_CONFORMANCE_TEST);
    const result = await run(process.execPath, [join(consumers.conformance, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], {
      cwd: consumers.conformance,
      env: consumerEnv({ ...noEngine, NAMESPACE_PREFIX: testNamespace('pkg') }),
      timeoutMs: 300_000,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(stripVTControlCharacters(result.stdout)).toMatch(/Tests +\d+ passed \| \d+ skipped \(\d+\)/);
  });

  it('runs as `drivetrain conformance --driver native`, without an engine', async () => {
    const result = await drivetrain('conformance', ['conformance', '--driver', 'native'], { ...noEngine, DRIVETRAIN_NAMESPACE_PREFIX: testNamespace('pkg') });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^conformance: native happy path .* passed /m);
    expect(result.stdout).toMatch(/\n\d+ passed, 0 failed, \d+ other, \d+ total\n$/);
  });

  it('type-checks a use of drivetrain/conformance', async () => {
    const conformance = `import { testDriver } from 'drivetrain/conformance';\nimport { createNativeDriver } from 'drivetrain/native';\ntestDriver({ name: 'n', create: (namespace) => createNativeDriver({ namespace }) });\n`;
    expect(await typecheck('conformance', { 'conformance.ts': conformance })).toMatchObject({ code: 0, stdout: '' });
  });
});
