import { EXIT } from './exit-codes.js';

/** An abort signal wired to SIGINT, SIGTERM and a closed output, and the exit code the first of them asks for. */
export interface Interrupts {
  /** Fires on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, 141 after a closed stdout/stderr; undefined while none came. */
  readonly exitCode: number | undefined;
  /** Removes the handlers (the process's default behaviour comes back). */
  dispose(): void;
}

/**
 * Turns the first SIGINT/SIGTERM into an abort, so the command can stop and clean up
 * before it exits; a second one exits at once, for when cleanup itself hangs.
 * A reader that goes away (`drivetrain run … | head -1`) is treated like SIGPIPE:
 * without a handler the write error would crash the CLI and leave the task behind.
 */
export function watchInterrupts(): Interrupts {
  const controller = new AbortController();
  let exitCode: number | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const [name, code] of [['SIGINT', EXIT.sigint], ['SIGTERM', EXIT.sigterm]] as const) {
    const handler = (): void => {
      if (exitCode !== undefined) process.exit(exitCode);
      exitCode = code;
      process.stderr.write(`drivetrain: ${name} received, stopping and cleaning up (again to exit at once)\n`);
      controller.abort(new DOMException(`interrupted by ${name}`, 'AbortError'));
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (exitCode !== undefined) return;
    exitCode = EXIT.sigpipe;
    controller.abort(new DOMException(`output closed (${error.code ?? error.message})`, 'AbortError'));
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
      // The error listeners stay: a late write to a closed pipe must not crash the exit.
    },
  };
}
