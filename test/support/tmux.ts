import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './poll.js';

const run = promisify(execFile);

/**
 * A program on a real pseudo-terminal: a detached tmux session of its own (own server socket),
 * whose screen is read and whose keys are typed as a user would, and whose window can be
 * resized (tmux resizes the terminal and the program gets SIGWINCH). Everything the program
 * writes to the terminal is also kept as it came (`pipe-pane`), for checks of the bytes rather
 * than of the screen. The program's exit code and pid are recorded (so it can be signalled), and
 * so are the terminal's settings (`stty -g`) before and after it, so a terminal left in raw mode
 * shows. The pane stays after the program exits, so what it last showed can be read.
 */
export class TmuxSession {
  private readonly dir = mkdtempSync(join(tmpdir(), 'drivetrain-tmux-'));

  private constructor(private readonly socket: string) {}

  /** Starts `argv` in `cwd` on a terminal of `columns` × `rows`, with `env` added to tmux's environment. */
  static async start(argv: readonly string[], size: { columns: number; rows: number }, env: Record<string, string> = {}, cwd = process.cwd()): Promise<TmuxSession> {
    const session = new TmuxSession(`dt-${randomBytes(4).toString('hex')}`);
    const setEnv = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The pane's shell records the settings around the program, then its exit code (whole, by a
    // rename), and exits with it; the program itself is a shell that writes its pid and then
    // becomes the program.
    const record = [
      'd=$1; shift; stty -g > "$d/before"',
      'sh -c \'echo $$ > "$0/pid"; exec "$@"\' "$d" "$@"',
      'code=$?; stty -g > "$d/after"; echo $code > "$d/code.part"; mv "$d/code.part" "$d/code"; exit $code',
    ].join('; ');
    const command = ['sh', '-c', record, 'pane', session.dir, ...argv];
    // remain-on-exit must hold before the program can end, and the output's pipe must be in place
    // before it writes: both set on a placeholder pane, which the program then replaces (a
    // respawned pane keeps its pipe).
    await session.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(size.columns), '-y', String(size.rows), ...setEnv, 'sleep 120']);
    await session.tmux(['set-option', '-g', 'remain-on-exit', 'on']);
    await session.tmux(['pipe-pane', '-t', 'main', '-o', `cat >> ${quote(join(session.dir, 'out'))}`]);
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

  /** The bytes the program has written to the terminal so far, as they came (`\r\n` line ends, escapes). */
  output(): string {
    const file = join(this.dir, 'out');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Waits until the program's output ({@link output}) matches `pattern`; returns the match. The error shows the output. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    // tmux offers no event for a pane's output: polled, with a generous deadline.
    try {
      return await eventually(() => this.output().match(pattern) ?? undefined, timeoutMs, `${pattern} in the program's output`);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the output: ${JSON.stringify(this.output())}`);
    }
  }

  /** The program's pid (the process the argv started), once it has started. */
  async pid(timeoutMs = 30_000): Promise<number> {
    const file = join(this.dir, 'pid');
    // Written just before the program replaces the shell that wrote it: read once it is whole.
    return eventually(() => (existsSync(file) && /^\d+\n$/.test(readFileSync(file, 'utf8')) ? Number(readFileSync(file, 'utf8')) : undefined), timeoutMs, 'the program to start');
  }

  /** The terminal's current settings as `stty -a` prints them (`-icanon` when raw, …). */
  async terminalSettings(): Promise<string> {
    const tty = (await this.tmux(['display-message', '-p', '-t', 'main', '#{pane_tty}'])).trim();
    return (await run('stty', ['-a', '-F', tty])).stdout;
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

  /** The program's exit status once it has exited (and the terminal's settings after it are recorded). */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    const recorded = join(this.dir, 'code');
    const exited = eventually(
      async () => {
        // The code the pane's shell recorded, not the pane's own status: with the output piped,
        // tmux marks the pane dead only once the pipe has taken the last output, and looks again
        // only when the pipe's command writes back, which `cat` never does (window.c,
        // window_pane_destroy_ready), so a pane can stay alive after its program.
        if (existsSync(recorded)) return Number(readFileSync(recorded, 'utf8'));
        // The pane's shell killed before it recorded anything: the pane's status, once tmux has it.
        // tmux marks a pane dead when its terminal closes, which can be before it has reaped the
        // program: the status is empty until then, so an empty one is waited for, not read as NaN.
        const [dead, status, signal] = (await this.tmux(['display-message', '-p', '-t', 'main', '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}'])).trim().split(':');
        if (dead !== '1' || existsSync(recorded)) return undefined;
        if (status !== undefined && status !== '') return Number(status);
        return signal !== undefined && signal !== '' ? 128 + Number(signal) : undefined;
      },
      timeoutMs,
      'the program on the terminal to exit',
    );
    return exited.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the output: ${JSON.stringify(this.output())}`);
    });
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
