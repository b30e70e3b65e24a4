import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { eventually } from './poll.js';

const run = promisify(execFile);

/**
 * A program on a real pseudo-terminal: a detached tmux session of its own (own server socket),
 * whose screen is read and whose keys are typed as a user would, and whose window can be
 * resized (tmux resizes the terminal and the program gets SIGWINCH). The pane stays after the
 * program exits, so its exit status can be read.
 */
export class TmuxSession {
  private constructor(private readonly socket: string) {}

  /** Starts `argv` on a terminal of `columns` × `rows`, with `env` added to tmux's environment. */
  static async start(argv: readonly string[], size: { columns: number; rows: number }, env: Record<string, string> = {}): Promise<TmuxSession> {
    const session = new TmuxSession(`dt-${randomBytes(4).toString('hex')}`);
    const setEnv = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // remain-on-exit must hold before the program can end: set on the server's global options first.
    await session.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(size.columns), '-y', String(size.rows), ...setEnv, 'sleep 120']);
    await session.tmux(['set-option', '-g', 'remain-on-exit', 'on']);
    await session.tmux(['respawn-pane', '-k', '-t', 'main', ...setEnv, argv.map(quote).join(' ')]);
    return session;
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
        const [dead, status] = (await this.tmux(['display-message', '-p', '-t', 'main', '#{pane_dead} #{pane_dead_status}'])).trim().split(' ');
        return dead === '1' ? Number(status) : undefined;
      },
      timeoutMs,
      'the program on the terminal to exit',
    );
  }

  /** Ends the session and its server (idempotent). */
  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined);
  }
}

/** One shell word, for the command line tmux hands to `sh -c`. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
