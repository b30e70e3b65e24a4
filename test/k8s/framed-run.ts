import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  /** Whose `sh` and `dd` run the wrapper. @default 'host' */
  tools?: FramedTools;
}

/**
 * `host`: this machine's (dash, GNU coreutils); `busybox`: busybox's applets alone, as in the
 * busybox image; `posix-dd`: the host's with a `dd` that refuses `iflag`, as POSIX's has none.
 */
export type FramedTools = 'host' | 'busybox' | 'posix-dd';

/** The applets the cases use, for the busybox PATH. */
const BUSYBOX_APPLETS = ['sh', 'dd', 'cat', 'head', 'wc', 'printf', 'echo', 'kill', 'md5sum'];

/** Runs `command` under the wrapper, its input `pieces` sent as frames. */
export type FramedRunner = (command: string[], pieces: readonly Uint8Array[], options?: FramedRunOptions) => Promise<FramedOutcome>;

/** How long a run may take before it is killed (a hang then shows as exit code null). */
const DEADLINE_MS = 30_000;

/**
 * The framed-input wrapper (exec with input below v5) run on this machine, fed as the driver
 * feeds it. Call at a test file's top level: the PATH directories it makes are removed after
 * the file's tests.
 */
export function useFramedRunner(): FramedRunner {
  const root = mkdtempSync(join(tmpdir(), 'drivetrain-framed-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const posixDd = join(root, 'posix-dd');
  mkdirSync(posixDd);
  writeFileSync(join(posixDd, 'dd'), '#!/bin/sh\ncase "$*" in *iflag*) echo "dd: unknown operand" >&2; exit 1 ;; esac\nexec /bin/dd "$@"\n');
  chmodSync(join(posixDd, 'dd'), 0o755);
  const busybox = join(root, 'busybox');
  mkdirSync(busybox);
  const busyboxBinary = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  for (const applet of BUSYBOX_APPLETS) symlinkSync(busyboxBinary, join(busybox, applet));
  const paths: Record<FramedTools, string> = { host: process.env.PATH ?? '/usr/bin:/bin', busybox, 'posix-dd': `${posixDd}:${process.env.PATH ?? '/usr/bin:/bin'}` };

  return async (command, pieces, options = {}) => {
    const [program, ...args] = framedCommand(command);
    const PATH = paths[options.tools ?? 'host'];
    // Node looks `sh` up in this PATH.
    const child = spawn(program as string, args, { env: { PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
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
