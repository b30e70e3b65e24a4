import { InvalidInputError, UnsupportedCapabilityError } from './errors.js';
import type { DriverCapabilities, TerminalOptions, TerminalSize } from './types.js';

/**
 * The terminal of `tty: true`: 80 columns × 24 rows, the size `docker run -t` and
 * `kubectl exec -t` give a terminal when nothing says otherwise.
 */
export const DEFAULT_TERMINAL_SIZE: Readonly<TerminalSize> = Object.freeze({ columns: 80, rows: 24 });

/** The largest side accepted: the kernel's `struct winsize` holds each side in an unsigned short. */
export const MAX_TERMINAL_SIDE = 65_535;

/** Terminal options after validation: the size of the terminal, or none when there is no terminal. */
export interface ResolvedTerminal {
  /** The terminal's first size; `undefined`: no terminal. */
  tty?: TerminalSize;
  /** Later sizes (present only with `tty`). */
  terminalSizes?: AsyncIterable<TerminalSize>;
}

/** A terminal size: positive integers up to {@link MAX_TERMINAL_SIDE}. Throws {@link InvalidInputError} naming the side. */
export function validateTerminalSize(size: unknown, field: string): TerminalSize {
  if (typeof size !== 'object' || size === null || Array.isArray(size)) {
    throw new InvalidInputError(field, 'a terminal size { columns, rows }', size);
  }
  const { columns, rows } = size as Partial<TerminalSize>;
  for (const [side, value] of [['columns', columns], ['rows', rows]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TERMINAL_SIDE) {
      throw new InvalidInputError(`${field}.${side}`, `a positive integer number of ${side === 'columns' ? 'character columns' : 'rows'} (at most ${MAX_TERMINAL_SIDE})`, value);
    }
  }
  return { columns: columns as number, rows: rows as number };
}

/**
 * Validates `tty` and `terminalSizes` of a task (`prefix` `task`) or an exec (`options`):
 * `true` becomes {@link DEFAULT_TERMINAL_SIZE}; `terminalSizes` without a terminal is an error.
 */
export function validateTerminalOptions(options: TerminalOptions, prefix: string): ResolvedTerminal {
  const { tty, terminalSizes } = options;
  let size: TerminalSize | undefined;
  if (tty === true) size = { ...DEFAULT_TERMINAL_SIZE };
  else if (tty !== undefined && tty !== false) size = validateTerminalSize(tty, `${prefix}.tty`);
  if (terminalSizes === undefined) return size === undefined ? {} : { tty: size };
  if (typeof terminalSizes !== 'object' || terminalSizes === null || !(Symbol.asyncIterator in terminalSizes)) {
    throw new InvalidInputError(`${prefix}.terminalSizes`, 'an async iterable of { columns, rows }', terminalSizes);
  }
  if (size === undefined) throw new InvalidInputError(`${prefix}.terminalSizes`, `nothing unless ${prefix}.tty is set (there is no terminal to resize)`);
  return { tty: size, terminalSizes };
}

/** Refuses a terminal on a driver without `capabilities.tty`, with {@link UnsupportedCapabilityError}. */
export function assertTerminalSupported(driver: string, capabilities: Pick<DriverCapabilities, 'tty'>, terminal: ResolvedTerminal): void {
  if (terminal.tty !== undefined && !capabilities.tty) {
    throw new UnsupportedCapabilityError(driver, 'tty', 'run a process on a terminal (tty)');
  }
}

/**
 * Feeds each valid size of `sizes` to `resize` until `signal` aborts (the process ended) or the
 * iterable ends. A size that is not valid is skipped; a failing `resize` (the process just
 * ended) stops nothing. Never rejects; the iterator is closed (`return()`) when the signal aborts.
 */
export async function followTerminalSizes(sizes: AsyncIterable<TerminalSize> | undefined, resize: (size: TerminalSize) => Promise<void>, signal: AbortSignal): Promise<void> {
  if (sizes === undefined || signal.aborted) return;
  const iterator = sizes[Symbol.asyncIterator]();
  const stopped = new Promise<'stopped'>((resolve) => signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped]);
      if (next === 'stopped' || next.done === true) break;
      let size: TerminalSize;
      try {
        size = validateTerminalSize(next.value, 'terminalSizes');
      } catch {
        continue;
      }
      await resize(size).catch(() => {});
      if (signal.aborted) break;
    }
  } catch {
    // A failing iterable ends the resizing, never the process.
  } finally {
    // Not awaited: a generator suspended in its own await settles its return() only when that await does.
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}
