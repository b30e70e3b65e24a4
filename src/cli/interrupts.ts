import { EXIT } from './exit-codes.js';

/** An abort signal wired to SIGINT and SIGTERM, and the exit code the first of them asks for. */
export interface Interrupts {
  /** Fires on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM; undefined while no signal came. */
  readonly exitCode: number | undefined;
  /** Removes the handlers (the process's default behaviour comes back). */
  dispose(): void;
}

/**
 * Turns the first SIGINT/SIGTERM into an abort, so the command can stop and clean up
 * before it exits; a second one exits at once, for when cleanup itself hangs.
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
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
