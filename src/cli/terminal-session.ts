import { spawnSync } from 'node:child_process';
import type { ReadStream, WriteStream } from 'node:tty';
import { PassThrough, type Readable } from 'node:stream';
import { DEFAULT_TERMINAL_SIZE } from '../terminal.js';
import type { TerminalSize } from '../types.js';
import type { TerminalFields, TerminalRequest } from './terminal-flags.js';

/** The local streams a session works with: the process's own by default. */
export interface LocalStreams {
  stdin: Readable & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode' | 'isRaw'>>;
  /** Where the size comes from and whose `resize` events (SIGWINCH) are followed: the first that is a terminal. */
  outputs: ReadonlyArray<Partial<Pick<WriteStream, 'isTTY' | 'columns' | 'rows'>> & NodeJS.EventEmitter>;
}

/** The local side of one run; see `openTerminal`. */
export interface TerminalSession {
  /** The task's or exec's `stdin`, `tty` and `terminalSizes`. */
  readonly fields: TerminalFields;
  /** Whether the local terminal is in raw mode now. */
  readonly raw: boolean;
  /**
   * Puts the local terminal in raw mode when `-i -t` were given and stdin is a terminal, so each
   * key (Ctrl-C included) goes to the task's terminal as a byte; does nothing otherwise.
   */
  enterRawMode(): void;
  /** Leaves raw mode, stops following resizes and ends `terminalSizes`; idempotent. */
  close(): void;
}

/**
 * Opens the local side of a run for `request` on the process's stdin/stdout/stderr (or
 * `streams`): the task's stdin (`-i`), its terminal of the local terminal's size and the
 * stream of its resizes (`-t`), and the raw mode to enter once it runs. The caller must
 * `close()` the session on every path (a `finally`); the process's exit leaves raw mode too,
 * for the paths no `finally` sees (a second Ctrl-C, an uncaught error).
 *
 * ```ts
 * const session = openTerminalSession(terminalRequest(values));
 * try {
 *   const running = sandbox.exec(command, { ...session.fields, stdout, stderr, signal }); // or a task
 *   session.enterRawMode(); // once the process runs: before its output
 *   return exitCodeOf(await running);
 * } finally {
 *   session.close();
 * }
 * ```
 */
export function openTerminalSession(request: TerminalRequest, streams: LocalStreams = { stdin: process.stdin, outputs: [process.stdout, process.stderr] }): TerminalSession {
  const { stdin } = streams;
  const output = streams.outputs.find((stream) => stream.isTTY === true);
  const sizeNow = (): TerminalSize | undefined => {
    const { columns, rows } = output ?? {};
    return typeof columns === 'number' && typeof rows === 'number' && columns > 0 && rows > 0 ? { columns, rows } : undefined;
  };
  const fields: TerminalFields = {};
  // The task gets a stream of its own: a driver destroys its stdin when the task ends, and
  // destroying a terminal's ReadStream would put that terminal back in cooked mode at once,
  // before the task's last output is written.
  const input = request.interactive ? stdin.pipe(new PassThrough()) : undefined;
  if (input !== undefined) fields.stdin = input;
  const queue = request.tty && output !== undefined ? new ResizeQueue(output, sizeNow) : undefined;
  if (request.tty) {
    fields.tty = sizeNow() ?? { ...DEFAULT_TERMINAL_SIZE };
    if (queue !== undefined) fields.terminalSizes = queue;
  }
  let raw = false;
  const leaveRawMode = (): void => {
    if (!raw) return;
    raw = false;
    stdin.setRawMode?.(false);
  };
  let closed = false;
  return {
    fields,
    get raw() {
      return raw;
    },
    enterRawMode() {
      if (closed || raw || !request.interactive || !request.tty || stdin.isTTY !== true || stdin.setRawMode === undefined) return;
      stdin.setRawMode(true);
      raw = true;
      // libuv's raw mode keeps output processing (ONLCR): the task's terminal already sent CRLF,
      // which would reach the screen as CR CR LF. Off, as `docker run -it` and `kubectl exec -it`
      // have it; leaving raw mode restores the settings libuv saved before it entered.
      if (stdin === process.stdin) spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: 5_000 });
      // The paths no `finally` sees: a second Ctrl-C's process.exit, an uncaught error.
      process.once('exit', leaveRawMode);
    },
    close() {
      if (closed) return;
      closed = true;
      leaveRawMode();
      process.off('exit', leaveRawMode);
      queue?.end();
      // Stop reading the local stdin, so it holds neither the terminal nor the exit.
      if (input !== undefined) {
        stdin.unpipe(input);
        stdin.pause();
        input.destroy();
      }
    },
  };
}

/**
 * The local terminal's sizes as an async iterable: each `resize` event (Node's SIGWINCH) queues
 * the new size; sizes not yet read are coalesced to the newest, as only the last one matters.
 */
class ResizeQueue implements AsyncIterable<TerminalSize> {
  private pending: TerminalSize | undefined;
  private waiting: ((result: IteratorResult<TerminalSize>) => void) | undefined;
  private ended = false;
  private readonly onResize = (): void => {
    const size = this.sizeNow();
    if (size === undefined || this.ended) return;
    if (this.waiting !== undefined) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: size, done: false });
    } else {
      this.pending = size;
    }
  };

  constructor(
    private readonly output: NodeJS.EventEmitter,
    private readonly sizeNow: () => TerminalSize | undefined,
  ) {
    output.on('resize', this.onResize);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.output.off('resize', this.onResize);
    this.pending = undefined;
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<TerminalSize> {
    return {
      next: () => {
        if (this.pending !== undefined) {
          const value = this.pending;
          this.pending = undefined;
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
