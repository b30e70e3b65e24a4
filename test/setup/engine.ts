import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENSURED = Symbol.for('drivetrain.test.engineEnsured');

/**
 * Makes sure a Docker engine answers and the local `busybox` test image and image registry
 * exist (test/infra/setup.sh: installed and started on a fresh machine), so Docker tests
 * never skip for lack of an engine. Once per vitest process, however many projects ask.
 */
export function ensureEngine(): void {
  const state = globalThis as { [ENSURED]?: true };
  if (state[ENSURED]) return;
  execFileSync('bash', [fileURLToPath(new URL('../infra/setup.sh', import.meta.url))], { stdio: 'inherit' });
  state[ENSURED] = true;
}
