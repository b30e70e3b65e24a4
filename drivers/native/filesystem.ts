import { execFile } from 'node:child_process';
import { chmod, chown, cp, lstat, mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ResolvedMount } from '../../src/validate.js';
import type { ReadOnlyMounts } from './options.js';
import { isCode } from './record.js';

/**
 * The path model: a task's container-style paths (`workDir`, mount paths) live
 * under `<taskdir>/fs/`, so `/tmp/drivetrain/x` becomes `<taskdir>/fs/tmp/drivetrain/x`.
 * Tasks of different namespaces (and IDs) therefore never share a directory.
 */

const run = promisify(execFile);

/** The host path of a container-style absolute path inside a task's file tree. */
export function mapPath(fsRoot: string, containerPath: string): string {
  return join(fsRoot, ...containerPath.split('/').filter((part) => part !== ''));
}

/** How a read-only mount was made. */
export type ReadOnlyMode = 'bind' | 'copy';

/** A numeric owner for the files the task must be able to write. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Builds a task's file tree: every mount at its mapped path, then the working
 * directory. Read-write mounts are symlinks to the volume directory. Read-only
 * mounts are a read-only bind mount of the volume when the driver may mount (root),
 * otherwise a copy of the volume with every write permission removed, discarded
 * with the task. Returns the mapped working directory.
 */
export async function buildTaskTree(
  fsRoot: string,
  workDir: string,
  mounts: readonly ResolvedMount[],
  volumeDir: (name: string) => string,
  options: { owner?: Owner; readOnly: ReadOnlyMounts },
): Promise<string> {
  const { owner } = options;
  await mkdir(fsRoot, { recursive: true });
  // Outer mounts first, so a nested mount lands inside its parent like on an engine.
  for (const mount of [...mounts].sort((a, b) => a.path.length - b.path.length)) {
    const source = volumeDir(mount.volume);
    await mkdir(source, { recursive: true });
    const target = mapPath(fsRoot, mount.path);
    await mkdir(dirname(target), { recursive: true });
    if (mount.readOnly) await mountReadOnly(source, target, options.readOnly);
    else await symlink(source, target, 'dir');
  }
  const cwd = mapPath(fsRoot, workDir);
  await mkdir(cwd, { recursive: true });
  if (owner !== undefined) await chownChain(fsRoot, cwd, owner);
  return cwd;
}

async function mountReadOnly(source: string, target: string, mode: ReadOnlyMounts): Promise<ReadOnlyMode> {
  await mkdir(target, { recursive: true });
  if (mode === 'auto' && process.getuid?.() === 0 && (await tryBindReadOnly(source, target))) return 'bind';
  await cp(source, target, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  await removeWritePermissions(target);
  return 'copy';
}

async function tryBindReadOnly(source: string, target: string): Promise<boolean> {
  try {
    await run('mount', ['--bind', source, target], { timeout: 5_000 });
  } catch {
    return false;
  }
  try {
    await run('mount', ['-o', 'remount,bind,ro', target], { timeout: 5_000 });
    return true;
  } catch {
    await run('umount', ['-l', target], { timeout: 5_000 }).catch(() => {});
    return false;
  }
}

async function removeWritePermissions(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await removeWritePermissions(join(path, entry));
  }
  await chmod(path, info.mode & 0o555);
}

/** Gives `owner` every directory from the tree's root down to `leaf`, so a task running as that user can write its cwd. */
async function chownChain(fsRoot: string, leaf: string, owner: Owner): Promise<void> {
  for (let dir = leaf; dir.startsWith(fsRoot); dir = dirname(dir)) {
    const info = await lstat(dir);
    if (!info.isSymbolicLink()) await chown(dir, owner.uid, owner.gid);
    if (dir === fsRoot) break;
  }
}

/**
 * Removes a directory tree that may hold read-only bind mounts and read-only
 * copies: unmounts the former (lazily, so a busy mount never blocks), gives the
 * latter back their write permission, then deletes. "Already gone" is success.
 */
export async function removeTree(dir: string): Promise<void> {
  for (const mountPoint of await mountPointsUnder(dir)) {
    await run('umount', ['-l', mountPoint], { timeout: 5_000 }).catch(() => {});
  }
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    if (!isCode(error, 'EACCES') && !isCode(error, 'EPERM')) throw error;
    await restoreWritePermissions(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function restoreWritePermissions(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isDirectory()) return;
  await chmod(path, info.mode | 0o700).catch(() => {});
  for (const entry of await readdir(path).catch(() => [])) await restoreWritePermissions(join(path, entry));
}

/** Mount points at or below `dir`, deepest first (Linux; none elsewhere). */
async function mountPointsUnder(dir: string): Promise<string[]> {
  let table: string;
  try {
    table = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = table
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}
