import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UnsupportedCapabilityError } from '../../src/errors.js';
import { followTerminalSizes } from '../../src/terminal.js';
import { stdinToReadable } from '../../src/stdin.js';
import type { StdinSource, TerminalSize } from '../../src/types.js';
import type { PipeEnds } from './pipes.js';
import type { SpawnRequest } from './process.js';

/**
 * Terminals for host processes, through util-linux `script`: it opens a pseudo-terminal, runs the
 * command there as a session leader, copies its stdin to the terminal and the terminal to its
 * stdout, and with `--return` exits with the command's code (128+n when signal n killed it).
 * Chosen over a native addon (node-pty needs a compiler and Node's headers at install, which the
 * package's approved install scripts do not allow) and over python's `pty` module (python is not on
 * every machine that runs Node); `script` is in util-linux, on every mainstream Linux
 * distribution. BusyBox's and BSD's `script` lack `--return` and `--echo`: without util-linux's, the
 * driver has no terminals (`capabilities.tty` false).
 */

/** Where util-linux's `script` and `stty` are, or undefined when either is missing or another kind. */
export interface TerminalTools {
  script: string;
  stty: string;
}

let probed: TerminalTools | null | undefined;

/** Finds util-linux `script` (with `--return` and `--echo`) and `stty` on the driver's PATH, once per process. */
export function terminalTools(): TerminalTools | undefined {
  if (probed === undefined) probed = probe() ?? null;
  return probed ?? undefined;
}

/** {@link terminalTools}, or `UnsupportedCapabilityError` (the driver's `capabilities.tty` said so first). */
export function requireTools(): TerminalTools {
  const tools = terminalTools();
  if (tools === undefined) throw new UnsupportedCapabilityError('native', 'tty', 'run a process on a terminal: util-linux `script` and `stty` are not on its PATH');
  return tools;
}

function probe(): TerminalTools | undefined {
  try {
    const found = (name: string): string => execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const script = found('script');
    const stty = found('stty');
    if (!script.startsWith('/') || !stty.startsWith('/')) return undefined;
    const version = execFileSync(script, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 });
    return version.includes('util-linux') ? { script, stty } : undefined;
  } catch {
    return undefined;
  }
}

/** A word for `sh`, quoted so that it stays one word whatever it holds. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The argv that runs `command` on a new terminal of `size`: `script` starts `$SHELL -c WRAPPER`
 * (SHELL is set to `sh` for it, and restored to the task's own value, or unset, before the command),
 * the wrapper sets the size before the command runs and then becomes the command (`exec`).
 * `--echo always` keeps the terminal's echo on as a terminal's is (util-linux turns it off when its
 * stdin is no terminal); the session's log goes to /dev/null.
 */
export function terminalArgv(tools: TerminalTools, command: readonly string[], size: TerminalSize, shell: string | undefined): string[] {
  const restoreShell = shell === undefined ? 'unset SHELL' : `SHELL=${quote(shell)}; export SHELL`;
  const wrapper = `${quote(tools.stty)} cols ${size.columns} rows ${size.rows} 2>/dev/null; ${restoreShell}; exec ${command.map(quote).join(' ')}`;
  return [tools.script, '--quiet', '--return', '--echo', 'always', '--command', wrapper, '/dev/null'];
}

/**
 * Resizes the terminal of the command `script` (process `scriptPid`) runs: `stty -F` on the
 * terminal the command has as its stdin, which makes the kernel send SIGWINCH to its foreground
 * process group. Rejects when the command is gone.
 */
export function resizeTerminal(tools: TerminalTools, scriptPid: number, size: TerminalSize): Promise<void> {
  const child = childOf(scriptPid);
  if (child === undefined) return Promise.reject(new Error(`the command of process ${scriptPid} is gone`));
  return new Promise((resolve, reject) => {
    execFile(tools.stty, ['-F', `/proc/${child}/fd/0`, 'cols', String(size.columns), 'rows', String(size.rows)], { timeout: 5_000 }, (error) => (error ? reject(error) : resolve()));
  });
}

/** The first child process of `pid` (Linux `/proc`), or undefined. */
function childOf(pid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(entry);
    } catch {
      // Gone while we looked.
    }
  }
  return undefined;
}

/** How to start a command on a terminal: the argv, the environment `script` gets, and its stdin. */
export interface TerminalLaunch {
  command: string[];
  env: Record<string, string>;
  /** Always a stream, kept open after its end: a terminal's input stays open as a keyboard's does. */
  stdin: Readable;
}

/** The launch of `command` with `env` on a terminal of `size`, fed from `stdin` (none: nothing is typed). */
export function terminalLaunch(tools: TerminalTools, command: readonly string[], env: Record<string, string>, size: TerminalSize, stdin: StdinSource | undefined): TerminalLaunch {
  const { SHELL: shell, ...rest } = env;
  return {
    command: terminalArgv(tools, command, size, shell),
    env: rest,
    stdin: stdin === undefined ? new Readable({ read() {} }) : stdinToReadable(stdin),
  };
}

/**
 * What a process reads through `pipe`: the terminal's input (kept open) when it runs on one,
 * else `stdin` (ended after its last byte), else nothing.
 */
export function stdinFeed(pipe: PipeEnds | undefined, terminal: TerminalLaunch | undefined, stdin: StdinSource | undefined): SpawnRequest['stdin'] {
  if (pipe === undefined) return undefined;
  if (terminal !== undefined) return { source: terminal.stdin, pipe, keepOpen: true };
  return stdin === undefined ? undefined : { source: stdinToReadable(stdin), pipe };
}

/** Applies each size of `sizes` to the terminal of `scriptPid` until `exited` settles. */
export function followResizes(tools: TerminalTools, scriptPid: number, sizes: AsyncIterable<TerminalSize> | undefined, exited: Promise<unknown>): void {
  if (sizes === undefined) return;
  const ended = new AbortController();
  void exited.finally(() => ended.abort());
  void followTerminalSizes(sizes, (size) => resizeTerminal(tools, scriptPid, size), ended.signal);
}
