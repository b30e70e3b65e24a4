import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './poll.js';

const run = promisify(execFile);

/**
 * A program on a real pseudo-terminal: a detached tmux session of its own (own server socket),
 * whose screen is read and whose keys are typed as a user would, and whose window can be
 * resized (tmux resizes the terminal and the program gets SIGWINCH). The pane stays after the
 * program exits, so its exit status can be read; the terminal's settings (`stty -g`) are
 * recorded before and after the program, so a terminal left in raw mode shows.
 */
export class TmuxSession {
  private readonly dir = mkdtempSync(join(tmpdir(), 'drivetrain-tmux-'));

  private constructor(private readonly socket: string) {}

  /** Starts `argv` in `cwd` on a terminal of `columns` × `rows`, with `env` added to tmux's environment. */
  static async start(argv: readonly string[], size: { columns: number; rows: number }, env: Record<string, string> = {}, cwd = process.cwd()): Promise<TmuxSession> {
    const session = new TmuxSession(`dt-${randomBytes(4).toString('hex')}`);
    const setEnv = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The pane's shell records the settings around the program and exits with the program's code.
    const record = 'd=$1; shift; stty -g > "$d/before"; "$@"; code=$?; stty -g > "$d/after"; exit $code';
    const command = ['sh', '-c', record, 'pane', session.dir, ...argv];
    // remain-on-exit must hold before the program can end: set on the server's global options first.
    await session.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(size.columns), '-y', String(size.rows), ...setEnv, 'sleep 120']);
    await session.tmux(['set-option', '-g', 'remain-on-exit', 'on']);
    await session.tmux(['respawn-pane', '-k', '-t', 'main', '-c', cwd, ...setEnv, command.map(quote).join(' ')]);
    return session;
  }

  /** Once the program has exited: whether the terminal's settings are as they were before it. */
  settingsRestored(): boolean {
    const read = (name: string): string => readFileSync(join(this.dir, name), 'utf8');
    return read('after') === read('before');
  }

  private async tmux(args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, ...args], { env: { ...process.env, TMUX: '' } });
    return stdout;
  }

  /** The screen's text, one line per row, without trailing blank lines. */
  async screen(): Promise<string> {
    return (await this.tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', 'main'])).trimEnd();
  }

  /** Waits until the screen matches `pattern`; returns the match. The error shows the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    let last = '';
    try {
      return await eventually(async () => (last = await this.screen()).match(pattern) ?? undefined, timeoutMs, `${pattern} on the terminal`);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen:\n${last}`);
    }
  }

  /** Types text (literally) and then Enter. */
  async typeLine(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', '-l', text]);
    await this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  /** Presses keys by tmux name (`C-c`, `Enter`). */
  async press(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** Resizes the terminal, as a user resizing the window. */
  async resize(columns: number, rows: number): Promise<void> {
    await this.tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  /** The program's exit status once it has exited. */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    return eventually(
      async () => {
        // tmux marks a pane dead when its terminal closes, which can be before it has reaped the
        // program: the status is empty until then, so an empty one is waited for, not read as NaN.
        const [dead, status, signal] = (await this.tmux(['display-message', '-p', '-t', 'main', '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}'])).trim().split(':');
        if (dead !== '1') return undefined;
        if (status !== undefined && status !== '') return Number(status);
        return signal !== undefined && signal !== '' ? 128 + Number(signal) : undefined;
      },
      timeoutMs,
      'the program on the terminal to exit',
    );
  }

  /** Ends the session and its server, removes the recorded settings (idempotent). */
  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A shell loop that ends once the terminal is `size` ("rows columns"), to type before a check
 * of the size: a size travels to the terminal apart from the typed input, so the shell may read
 * a line before the size has arrived. A size that never comes (or a wrong one last) leaves the
 * loop running and the check waiting until its deadline. Before its first size a terminal may
 * be 0×0, which busybox's `stty size` reports as an error: silenced.
 */
export const untilTerminalSize = (size: string): string => `until [ "$(stty size 2>/dev/null)" = "${size}" ]; do sleep 0.05; done`;

/** What {@link exerciseShell} saw. */
export interface ShellOnTerminal {
  /** `tty`'s answer. */
  tty: string;
  /** `stty size` at first, once the terminal has the window's size. */
  size: string;
  /** `stty size` after the window was resized. */
  resized: string;
  /** `$?` after Ctrl-C ended a `sleep`. */
  interrupted: string;
}

/**
 * Drives an interactive shell (busybox `sh`) running on `term`'s terminal as a user would:
 * asks `tty` and `stty size` (once the window's size, `first` "rows columns", has arrived),
 * resizes the window to `resizeTo` and asks again, ends a `sleep` with Ctrl-C and asks `$?`,
 * then types `exit <exitWith>`. Resolves with what the shell answered; the caller checks it and
 * the exit code. Typed lines print their answers through `$(…)` or `$?`, so the echo of a
 * typed line never matches what is waited for.
 */
export async function exerciseShell(term: TmuxSession, first: string, resizeTo: { columns: number; rows: number }, exitWith: number): Promise<ShellOnTerminal> {
  await term.typeLine(`${untilTerminalSize(first)}; echo TTY=$(tty) SIZE=$(stty size)`);
  const [, tty, size] = await term.waitFor(/TTY=(\S+) SIZE=(\d+ \d+)/, 60_000);
  await term.resize(resizeTo.columns, resizeTo.rows);
  await term.typeLine(`${untilTerminalSize(`${resizeTo.rows} ${resizeTo.columns}`)}; echo RESIZED=$(stty size)`);
  const [, resized] = await term.waitFor(/RESIZED=(\d+ \d+)/);
  // The command says it runs before Ctrl-C is typed, so the SIGINT reaches it, not the shell.
  await term.typeLine("sh -c 'echo STARTED=$$; exec sleep 30'");
  await term.waitFor(/STARTED=\d+/);
  await term.press('C-c');
  // An interactive shell drops the rest of a line whose command died of SIGINT: asked on a line of its own.
  await term.typeLine('echo RC=$?');
  const [, interrupted] = await term.waitFor(/RC=(\d+)/);
  await term.typeLine(`exit ${exitWith}`);
  return { tty: tty as string, size: size as string, resized: resized as string, interrupted: interrupted as string };
}

/** One shell word, for the command line tmux hands to `sh -c`. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
