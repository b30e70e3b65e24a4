import type { StdinSource, TerminalSize } from '../types.js';

/**
 * The `-i` and `-t` flags of every command that runs a process (`run`, `exec`), parsed in one
 * place so they mean the same everywhere, as in `docker run -it` and `kubectl exec -it`.
 * Spread {@link TERMINAL_OPTIONS} into the command's `parseArgs` options and
 * {@link TERMINAL_USAGE} into its usage text; {@link terminalRequest} reads the parsed values, and
 * `openTerminalSession` (terminal-session.ts) turns them into the task's or exec's fields.
 */
export const TERMINAL_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
} as const;

/** The usage lines of {@link TERMINAL_OPTIONS}, aligned with the other options of a command. */
export const TERMINAL_USAGE = `  -i, --interactive    stream this process's stdin to the task
  -t, --tty            run the task on a terminal of this terminal's size (80x24 when
                       this is no terminal), resized with it; its output is the terminal's
                       stream, on stdout only. With -i on a terminal, this terminal is
                       put in raw mode (Ctrl-C goes to the task) and restored at the end`;

/** What `-i` and `-t` asked for. */
export interface TerminalRequest {
  interactive: boolean;
  tty: boolean;
}

/** `-i`/`-t` from a command's parsed values. */
export function terminalRequest(values: { interactive?: boolean; tty?: boolean }): TerminalRequest {
  return { interactive: values.interactive === true, tty: values.tty === true };
}

/** What a task or an exec gets from {@link TerminalRequest}: its stdin and terminal. */
export interface TerminalFields {
  stdin?: StdinSource;
  tty?: TerminalSize;
  terminalSizes?: AsyncIterable<TerminalSize>;
}
