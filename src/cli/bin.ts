#!/usr/bin/env node
/**
 * The `drivetrain` executable. It turns on Node's on-disk compile cache before the CLI
 * and its SDKs (dockerode, @kubernetes/client-node) are loaded, so every start after the
 * first reuses their compiled code instead of compiling it again. The cache lives in
 * `NODE_COMPILE_CACHE` (Node turns it on itself then), else in `node-compile-cache` of the
 * system's temporary directory; when that cannot be made or written, the CLI runs without it.
 */
import { createRequire, enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Required, not imported: node:fs's ES module facade reads its `promises` getter, which loads
// fs/promises and readline (~3 ms of CPU that `--help` does not need, docs/performance.md, P8).
const { mkdirSync, statSync } = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/**
 * The default cache folder, made here without `recursive`: Node's own recursive make loops
 * forever where a file system answers ENOENT under a parent that exists (a TMPDIR under
 * /proc), and a missing temporary directory is not the CLI's to create.
 */
function compileCacheDir(): string | undefined {
  const dir = join(tmpdir(), 'node-compile-cache');
  try {
    mkdirSync(dir);
  } catch {
    // There already, or cannot be made: the check below decides.
  }
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

if (process.env.NODE_COMPILE_CACHE === undefined) {
  const dir = compileCacheDir();
  if (dir !== undefined) enableCompileCache(dir);
}
// Loaded only now: a static import would be evaluated before the cache is on.
await import('./main.js');
