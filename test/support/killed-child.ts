import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './poll.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Options of {@link killOnceItSays}. */
export interface KillOnceItSaysOptions {
  /** How long the process may take to say its line, in ms. */
  timeoutMs: number;
  /** Runs while the process still lives, after it said its line and before it is killed. */
  whileRunning?: () => Promise<void>;
}

/**
 * Runs the TypeScript `script` (from the repository root, with `args`) until it prints the
 * line `said`, then SIGKILLs it: a process that ends without any cleanup of its own, as a
 * crash or an OOM kill does. Resolves once it exited, with its pid and what it had printed by
 * then; rejects, with its output, when it ended before saying the line.
 */
export async function killOnceItSays(script: string, args: readonly string[], said: string, options: KillOnceItSaysOptions): Promise<{ pid: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = `${said}\n`;
  try {
    await eventually(() => output.includes(line) || child.exitCode !== null, options.timeoutMs, `${script} to say "${said}"`);
    if (!output.includes(line)) throw new Error(`${script} exited with ${child.exitCode} before saying "${said}": ${output}`);
    const printed = output;
    await options.whileRunning?.();
    return { pid: child.pid!, output: printed };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
