import { createRequire } from 'node:module';
import type { ParseArgsConfig } from 'node:util';

// Required, not imported: node:util's ES module facade reads every export, and its getters load
// modules no command uses (~2.5 ms of CPU at every start, docs/performance.md, P8).
const { parseArgs } = createRequire(import.meta.url)('node:util') as typeof import('node:util');

/** A command line the CLI cannot make sense of; reported with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The usage text of the command that was misused, printed after the message. */
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type HelpOption = { help: { type: 'boolean'; short: 'h' } };
type CommandConfig<O extends Options, P extends boolean> = { args: string[]; options: O & HelpOption; strict: true; allowPositionals: P };
/** What {@link parseCommandLine} returns: parseArgs' own, typed result. */
export type ParsedCommandLine<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<CommandConfig<O, P>>>;

/**
 * `parseArgs` in strict mode with `--help`/`-h` added, its TypeErrors (unknown option,
 * missing value) turned into {@link UsageError}s carrying the command's usage text.
 */
export function parseCommandLine<O extends Options, P extends boolean = false>(
  args: readonly string[],
  options: O,
  usage: string,
  allowPositionals?: P,
): ParsedCommandLine<O, P> {
  const help: HelpOption = { help: { type: 'boolean', short: 'h' } };
  try {
    return parseArgs<CommandConfig<O, P>>({
      args: [...args],
      options: { ...options, ...help },
      strict: true,
      allowPositionals: (allowPositionals ?? false) as P,
    });
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(firstLine(error.message), usage);
    throw error;
  }
}

/** Node's parseArgs messages end in a long hint about positionals; the CLI's usage text says it better. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/\. To specify a positional argument.*$/, ' (a command\'s own options go after "--")');
}

/** The driver names the CLI knows, for `--driver` checks. */
export const DRIVER_NAMES = ['docker', 'native', 'k8s'] as const;

/** Checks a `--driver` value; undefined stays undefined (the command picks a default). */
export function driverOption(value: string | undefined, usage: string, allowed: readonly string[] = DRIVER_NAMES): string | undefined {
  if (value === undefined || allowed.includes(value)) return value;
  throw new UsageError(`unknown driver "${value}": expected one of ${allowed.join(', ')}`, usage);
}
