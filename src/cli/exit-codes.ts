/**
 * Exit codes of the `drivetrain` CLI. `run` otherwise exits with the task's own
 * exit code, so these follow the conventions of `docker run` and the shell.
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** A command failed: a drivetrain error, an unreachable engine, a failing conformance case. */
  failure: 1,
  /** Bad usage: unknown command or flag, missing argument, malformed value. */
  usage: 2,
  /** `run`/`demo` could not run the task, or the task ended without an exit code (like `docker run`). */
  couldNotRun: 125,
  /** Interrupted by SIGINT (Ctrl-C): 128 + 2. */
  sigint: 130,
  /** The reader of stdout or stderr went away (a closed pipe): 128 + 13, like SIGPIPE. */
  sigpipe: 141,
  /** Terminated by SIGTERM: 128 + 15. */
  sigterm: 143,
} as const;
