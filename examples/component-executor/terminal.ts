import { on } from 'node:events';
import type { TerminalSize } from 'drivetrain';

/** This program's terminal, lent to an interactive task: its input, its size and the size's changes. */
export interface LocalTerminal {
  stdin: NodeJS.ReadStream;
  size: TerminalSize;
  /** Each new size of the window (SIGWINCH), until `restore`. */
  sizes: AsyncIterable<TerminalSize>;
  /** Puts the terminal back as it was (cooked mode) and stops reading it; idempotent. */
  restore(): void;
}

/**
 * Lends this terminal to a task: raw mode, so every key (Ctrl-C included) goes to the task's
 * terminal as a byte; the task's terminal gets this one's size (80×24 when stdout is no
 * terminal) and follows its resizes. The caller restores it on every path (a `finally`);
 * the process's exit restores it too.
 */
export function lendTerminal(): LocalTerminal {
  const { stdin, stdout } = process;
  const sizeNow = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const stop = new AbortController();
  async function* resizes(): AsyncGenerator<TerminalSize> {
    try {
      for await (const _ of on(stdout, 'resize', { signal: stop.signal })) yield sizeNow();
    } catch {
      // Aborted by restore(): no more sizes.
    }
  }
  const raw = stdin.isTTY === true;
  const restore = (): void => {
    if (stop.signal.aborted) return;
    stop.abort();
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    process.off('exit', restore);
  };
  if (raw) stdin.setRawMode(true);
  process.on('exit', restore);
  return { stdin, size: sizeNow(), sizes: resizes(), restore };
}
