import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { END_FRAME, frame, framedCommand } from '../../drivers/k8s/stdin-frames.js';

/** What a command under the wrapper gave. */
export interface FramedOutcome {
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
}

/** How {@link FramedRunner} feeds and runs the wrapper. */
export interface FramedRunOptions {
  /** Send the end frame after the pieces. false: the input stays open, as a caller's stream that never ends. @default true */
  end?: boolean;
  /** Put a `dd` without `iflag` (POSIX's) first in PATH. @default false */
  posixDd?: boolean;
}

/** Runs `command` under the wrapper, its input `pieces` sent as frames. */
export type FramedRunner = (command: string[], pieces: readonly Uint8Array[], options?: FramedRunOptions) => Promise<FramedOutcome>;

/** How long a run may take before it is killed (a hang then shows as exit code null). */
const DEADLINE_MS = 30_000;

/**
 * The framed-input wrapper (exec with input below v5) run by this machine's `sh` and `dd`,
 * fed as the driver feeds it. Call at a test file's top level: the `dd` shim's directory
 * is removed after the file's tests.
 */
export function useFramedRunner(): FramedRunner {
  const shimDir = mkdtempSync(join(tmpdir(), 'drivetrain-dd-'));
  writeFileSync(join(shimDir, 'dd'), '#!/bin/sh\ncase "$*" in *iflag*) echo "dd: unknown operand" >&2; exit 1 ;; esac\nexec /bin/dd "$@"\n');
  chmodSync(join(shimDir, 'dd'), 0o755);
  afterAll(() => rmSync(shimDir, { recursive: true, force: true }));

  return async (command, pieces, options = {}) => {
    const [program, ...args] = framedCommand(command);
    const env = options.posixDd === true ? { ...process.env, PATH: `${shimDir}:${process.env.PATH ?? ''}` } : process.env;
    const child = spawn(program as string, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // The command may end before reading everything: the rest of the input goes nowhere.
    child.stdin.on('error', () => {});
    for (const piece of pieces) if (piece.length > 0) child.stdin.write(frame(piece));
    if (options.end !== false) child.stdin.write(END_FRAME);
    const deadline = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(deadline);
    child.stdin.destroy();
    return { exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() };
  };
}
