import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The drivetrain checkout this CLI runs from (the folder of its package.json), found by
 * walking up from this file — from `src/cli` and from the built `dist/src/cli` alike.
 * Undefined when there is none (an installed package has no test suite).
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

function isDrivetrain(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'drivetrain';
  } catch {
    return false;
  }
}
