import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a command ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * This process's environment for a command run in a consumer project, without what vitest
 * sets for its own workers (a consumer's vitest would take it for its own), with `extra` on top.
 */
export function consumerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_ENV' && name !== 'TEST'));
  return { ...env, ...extra };
}

/** Runs `file args` in `cwd` and resolves with how it ended (never rejects for a non-zero exit). */
export function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env ?? consumerEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What `npm pack` made. */
export interface Packed {
  /** Absolute path of the tarball. */
  tarball: string;
  integrity: string;
  /** The paths inside the package, as published. */
  files: string[];
  /** The package's own package.json. */
  manifest: Manifest;
}

/** The fields of a package.json that an install reads. */
export interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Packs the package whose folder is `packageDir` (the checkout by default, its build included) into `directory` with `npm pack`. */
export async function packPackage(directory: string, packageDir = ROOT): Promise<Packed> {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', directory], { cwd: packageDir, timeoutMs: 300_000 });
  if (packed.code !== 0) throw new Error(`npm pack in ${packageDir} failed: ${packed.stderr}`);
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>;
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Manifest;
  return { tarball: join(directory, report!.filename), integrity: report!.integrity, files: report!.files.map((file) => file.path), manifest };
}

interface LockEntry {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  [key: string]: unknown;
}

/**
 * Makes an empty project in `directory` that depends on the `packed` packages and on
 * `packages` (names from this checkout's own dependencies, at the versions installed here),
 * and installs it with `npm ci --offline`: the lockfile is cut from this checkout's own
 * package-lock.json, so every package comes, checked by its integrity, from npm's cache,
 * which this checkout's `npm ci` filled. Nothing is fetched and nothing is resolved anew,
 * so the install is as fast and as repeatable as the checkout's own.
 */
export async function installConsumer(directory: string, packed: readonly Packed[], packages: readonly string[]): Promise<void> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const closure = dependencyClosure(lock.packages, [...packed.flatMap((own) => Object.keys(own.manifest.dependencies ?? {})), ...packages]);
  const locals = packed.map((own) => ({ own, tarball: `file:${relative(directory, own.tarball)}` }));
  const rootDependencies = Object.fromEntries([...locals.map(({ own, tarball }) => [own.manifest.name, tarball]), ...packages.map((name) => [name, lock.packages[`node_modules/${name}`]!.version])]);
  const localEntries = Object.fromEntries(
    locals.map(({ own, tarball }) => {
      const fields = Object.fromEntries(['license', 'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines'].filter((key) => own.manifest[key] !== undefined).map((key) => [key, own.manifest[key]]));
      return [`node_modules/${own.manifest.name}`, { version: own.manifest.version, resolved: tarball, integrity: own.integrity, ...fields }];
    }),
  );
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: rootDependencies }, null, 2)}\n`);
  const entries = { '': { name: 'consumer', dependencies: rootDependencies }, ...localEntries, ...closure };
  await writeFile(join(directory, 'package-lock.json'), `${JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages: entries }, null, 2)}\n`);
  // Install scripts are not run: the packages the consumers use need none (esbuild's only checks its binary).
  const installed = await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: directory, timeoutMs: 300_000 });
  if (installed.code !== 0) throw new Error(`npm ci --offline in ${directory} failed (is npm's cache the one this checkout's npm ci filled?): ${installed.stderr}`);
}

/**
 * The lockfile entries `roots` need, found as Node resolves them (a package's own
 * node_modules first, then each folder above), with the flags of this checkout's
 * devDependencies dropped: in the consumer they are its dependencies.
 */
function dependencyClosure(entries: Record<string, LockEntry>, roots: readonly string[]): Record<string, LockEntry> {
  const found: Record<string, LockEntry> = {};
  const queue: string[] = [];
  const add = (from: string, name: string, optional: boolean): void => {
    const path = resolveIn(entries, from, name);
    if (path === undefined) {
      if (optional) return;
      throw new Error(`${name} (needed by ${from || 'the consumer'}) is not in package-lock.json`);
    }
    if (found[path] !== undefined) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = entries[path]!;
    found[path] = entry;
    queue.push(path);
  };
  for (const root of roots) add('', root, false);
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const entry = entries[path]!;
    for (const name of Object.keys(entry.dependencies ?? {})) add(path, name, false);
    for (const name of Object.keys(entry.optionalDependencies ?? {})) add(path, name, true);
    // npm installs the required peers too; optional ones only when asked for, as here they are not.
    for (const name of Object.keys(entry.peerDependencies ?? {})) if (entry.peerDependenciesMeta?.[name]?.optional !== true) add(path, name, true);
  }
  return found;
}

/** The lockfile path `name` resolves to from the package at `from` ('' for the root). */
function resolveIn(entries: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir = from; ; ) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (entries[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}
