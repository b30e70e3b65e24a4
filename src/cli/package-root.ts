import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Required, not imported: node:fs's ES module facade reads its \`promises\` getter, which loads
// fs/promises and readline (~3 ms of CPU that \`--version\` does not need, docs/performance.md, P8).
const { existsSync, readFileSync } = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/**
 * The drivetrain checkout this CLI runs from (the folder of its package.json), found by
 * walking up from this file — from `src/cli` and from the built `dist/src/cli` alike.
 * Undefined when there is none.
 */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isDrivetrain(manifest)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The version in drivetrain's package.json (the installed package's, or the checkout's). */
export function packageVersion(): string {
  const root = packageRoot();
  if (root === undefined) return 'unknown';
  return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
}

function isDrivetrain(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'drivetrain';
  } catch {
    return false;
  }
}
