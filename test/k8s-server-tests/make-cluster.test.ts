import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/poll.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a process of that PID exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `make cluster` (its prerequisites taken as done: the suite's own setup made them)
 * and resolves once the server is up, with make's PID, the server's PID and its state directory.
 */
async function makeCluster(): Promise<{ make: number; server: number; stateDir: string }> {
  const make = spawn('make', ['--no-print-directory', '-o', 'deps', '-o', 'infra', 'cluster'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  make.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  make.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const started = await eventually(() => /^Kubeconfig: (\S+)$[\s\S]*kill -TERM (\d+) stops/m.exec(output) ?? (make.exitCode !== null ? new Error(output) : undefined), 90_000, `make cluster to start (output: ${output})`, 100);
  if (started instanceof Error) throw new Error(`make cluster exited: ${started.message}`);
  return { make: make.pid!, server: Number(started[2]), stateDir: dirname(started[1]!) };
}

describe('make cluster', { timeout: 180_000 }, () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)('%s to the make process stops the server and removes its state directory', async (signal) => {
    const { make, server, stateDir } = await makeCluster();
    expect(existsSync(`${stateDir}/ca.key`)).toBe(true);
    try {
      process.kill(make, signal);
      await eventually(() => !alive(server), 60_000, `server ${server} to exit after make got ${signal}`);
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      if (alive(server)) process.kill(server, 'SIGKILL');
    }
  });
});
