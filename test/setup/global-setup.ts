import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs once before the whole suite: makes sure a Docker engine answers and the
 * local `busybox` test image exists (installing and starting them on a fresh
 * machine), so Docker tests never skip for lack of an engine.
 */
export default function setup(): void {
  const script = fileURLToPath(new URL('../infra/setup.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
}
