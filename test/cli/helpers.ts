import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: the CLI runs from source, no build needed. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a CLI run ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout as the bytes the CLI wrote. */
  stdoutBytes: Buffer;
}

/** A running CLI process and its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited; rejects (and kills it) past `deadlineMs`. */
  exited(deadlineMs?: number): Promise<CliResult>;
  /** Resolves once stdout contains `text`; rejects past `deadlineMs` or when the process exits first. */
  stdoutIncludes(text: string, deadlineMs?: number): Promise<void>;
}

/** The CLI as the package's `drivetrain` command runs it: the bundle `npm run build` makes. */
export const BUNDLED_BIN = 'dist/bundle/cli/bin.js';

/**
 * Starts `drivetrain <args>` from source with tsx; with `bundled`, the built bundle
 * ({@link BUNDLED_BIN}) instead, on this Node with `nodeArgs`.
 */
export function spawnCli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; bundled?: boolean; nodeArgs?: readonly string[] } = {}): CliProcess {
  const entry = options.bundled === true ? [...(options.nodeArgs ?? []), BUNDLED_BIN] : ['--import', 'tsx', 'src/cli/main.ts'];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdoutChunks: Buffer[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutChunks.push(chunk);
    stdout += chunk.toString('utf8');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin.end(options.input);
  const exit = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdoutChunks).toString('utf8'), stderr, stdoutBytes: Buffer.concat(stdoutChunks) }));
  });
  const withDeadline = <T>(promise: Promise<T>, deadlineMs: number, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${what} not within ${deadlineMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
      }, deadlineMs);
      timer.unref();
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  };
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: (deadlineMs = 90_000) => withDeadline(exit, deadlineMs, `drivetrain ${args.join(' ')} exit`),
    stdoutIncludes: (text, deadlineMs = 60_000) =>
      withDeadline(
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (stdout.includes(text)) resolve();
          };
          child.stdout?.on('data', check);
          check();
          void exit.then(() => (stdout.includes(text) ? resolve() : reject(new Error(`exited before printing ${text}; stderr: ${stderr}`))));
        }),
        deadlineMs,
        `"${text}" on stdout`,
      ),
  };
}

/** Runs `drivetrain <args>` to its end. */
export function runCli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; deadlineMs?: number; bundled?: boolean; nodeArgs?: readonly string[] } = {}): Promise<CliResult> {
  return spawnCli(args, options).exited(options.deadlineMs);
}
