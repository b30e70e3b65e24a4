import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { Mount, Task } from '../types.js';
import { validateNamespace, validateTask } from '../validate.js';
import { TERMINAL_OPTIONS, TERMINAL_USAGE, terminalRequest, type TerminalRequest } from './terminal-flags.js';
import { UsageError, driverOption, parseCommandLine } from './usage.js';

export const RUN_USAGE = `Usage: drivetrain run [options] IMAGE -- COMMAND [ARG...]

Runs COMMAND in IMAGE, streams its stdout and stderr, removes the container at the
end, and exits with the command's exit code. A random namespace (no --namespace) is
removed whole, volumes included; a namespace named with --namespace keeps its volumes
for the next run, until \`drivetrain cleanup --namespace NAME\` removes them.

Options:
  --driver NAME        docker, native or k8s (default: docker when an engine answers, else native)
  --namespace NAME     drivetrain namespace to run in; its volumes are kept (default:
                       a random one, starting with $DRIVETRAIN_NAMESPACE_PREFIX when set)
  -e, --env K=V        set an environment variable (repeatable)
  -v, --volume V:PATH[:ro]
                       mount volume V at PATH, read-only with :ro (repeatable)
  -w, --workdir DIR    absolute working directory (default: /tmp/drivetrain/<id>)
  -u, --user USER      uid, uid:gid or a user name of the image
${TERMINAL_USAGE}
  --id ID              task ID (default: run-<random>)
  --timeout SECONDS    kill the task after SECONDS
  --start-timeout SECONDS
                       give up when the task has not started after SECONDS (scheduling,
                       pulling, starting; default: the driver's own)
  --pull-timeout SECONDS
                       k8s: give up when an image pull keeps failing for SECONDS
                       (default 120; other drivers bound pulls with --start-timeout)
  --verbose            print what the driver does on stderr (starts, pulls, engine requests, …)
  -h, --help           show this help

On a terminal, image pulls show their progress on stderr.

Environment: DOCKER_HOST (docker); KUBECONFIG, DRIVETRAIN_K8S_NAMESPACE (k8s);
DRIVETRAIN_NAMESPACE_PREFIX (the random namespace).

Exit codes: the task's own code; 125 when it could not run or ended without a code
(a COMMAND that cannot be executed: 127 when not found, 126 when not executable, with
a message, where the driver reports it as an exit, as native does); 2 for bad usage, a
bad flag value included; 130 after Ctrl-C, 143 after SIGTERM, 141 when the reader of
the output went away (\`| head\`). In each case the task is stopped and removed first.
`;

/** A parsed `drivetrain run` command line. */
export interface RunArgs {
  help: boolean;
  /** Undefined: pick the best available driver. */
  driver: string | undefined;
  /** The namespace given with `--namespace`; undefined: a random one, removed whole after the run. */
  namespace: string | undefined;
  /** The task, without its stdin and terminal: those come from `openTerminalSession(terminal)` at run time. */
  task: Task;
  /** `-i` and `-t`. */
  terminal: TerminalRequest;
  /** Driver options from the command line (`startTimeoutMs`, `pullTimeoutMs`). */
  driverOptions: { startTimeoutMs?: number; pullTimeoutMs?: number };
}

const OPTIONS = {
  driver: { type: 'string' },
  namespace: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  ...TERMINAL_OPTIONS,
  id: { type: 'string' },
  timeout: { type: 'string' },
  'start-timeout': { type: 'string' },
  'pull-timeout': { type: 'string' },
} as const;

/** Parses the arguments after `run`; values the library checks itself (paths, IDs) are left to it. */
export function parseRunArgs(args: readonly string[]): RunArgs {
  const { values, positionals } = parseCommandLine(args, OPTIONS, RUN_USAGE, true);
  const [image, ...command] = positionals;
  const placeholder: Task = { id: '', image: '', command: [] };
  if (values.help === true) return { help: true, driver: undefined, namespace: undefined, task: placeholder, terminal: { interactive: false, tty: false }, driverOptions: {} };
  if (image === undefined) throw new UsageError('missing IMAGE', RUN_USAGE);
  if (command.length === 0) throw new UsageError('missing COMMAND: put it after "--", e.g. drivetrain run busybox -- echo hi', RUN_USAGE);
  const task: Task = {
    id: values.id ?? `run-${randomBytes(4).toString('hex')}`,
    image,
    command,
    env: parseEnv(values.env ?? []),
    mounts: (values.volume ?? []).map(parseVolume),
  };
  if (values.workdir !== undefined) task.workDir = values.workdir;
  if (values.user !== undefined) task.user = values.user;
  const terminal = terminalRequest(values);
  // Checked here with a stand-in: the real stdin and size come from the terminal session at run time.
  if (terminal.tty) task.tty = true;
  if (values.timeout !== undefined) task.timeoutMs = parseSeconds(values.timeout, '--timeout');
  const driverOptions: RunArgs['driverOptions'] = {};
  if (values['start-timeout'] !== undefined) driverOptions.startTimeoutMs = parseSeconds(values['start-timeout'], '--start-timeout');
  if (values['pull-timeout'] !== undefined) driverOptions.pullTimeoutMs = parseSeconds(values['pull-timeout'], '--pull-timeout');
  const parsed: RunArgs = { help: false, driver: driverOption(values.driver, RUN_USAGE), namespace: values.namespace, task, terminal, driverOptions };
  // The library's own checks, run now so that a bad value is a usage error naming its flag.
  try {
    validateTask(task);
    if (parsed.namespace !== undefined) validateNamespace(parsed.namespace);
  } catch (error) {
    throw flagError(error, parsed) ?? error;
  }
  return parsed;
}

/**
 * A {@link UsageError} naming the flag behind an {@link InvalidInputError} of the library or a
 * driver (`task.workDir` → `-w`, `options.namespace` → `--namespace`, …), with the value given
 * there (never for `-e`, whose values may be secrets); undefined when no flag set that field.
 */
export function flagError(error: unknown, parsed: RunArgs): UsageError | undefined {
  if (!(error instanceof InvalidInputError)) return undefined;
  const source = flagOf(error.field, parsed);
  if (source === undefined) return undefined;
  const given = source.value === undefined ? '' : ` ${JSON.stringify(source.value.length > 80 ? `${source.value.slice(0, 80)}…` : source.value)}`;
  return new UsageError(`invalid ${source.flag}${given}: expected ${error.expected}`, RUN_USAGE);
}

function flagOf(field: string, { task, namespace, driverOptions }: RunArgs): { flag: string; value?: string } | undefined {
  const mount = /^task\.mounts\[(\d+)\]/.exec(field);
  if (mount !== null) {
    const index = Number(mount[1]);
    const m = task.mounts?.[index];
    return { flag: `${ordinal(index + 1)} -v`, value: m === undefined ? undefined : `${m.volume}:${m.path}${m.readOnly === true ? ':ro' : ''}` };
  }
  if (field.startsWith('task.env')) return { flag: '-e' };
  if (field.startsWith('task.command')) return { flag: 'COMMAND' };
  const flags: Record<string, { flag: string; value?: unknown }> = {
    'task.id': { flag: '--id', value: task.id },
    'task.image': { flag: 'IMAGE', value: task.image },
    'task.workDir': { flag: '-w/--workdir', value: task.workDir },
    'task.user': { flag: '-u/--user', value: task.user },
    'task.tty': { flag: '-t/--tty' },
    'task.timeoutMs': { flag: '--timeout', value: task.timeoutMs === undefined ? undefined : `${task.timeoutMs / 1000}` },
    'options.namespace': { flag: '--namespace', value: namespace },
    'options.startTimeoutMs': { flag: '--start-timeout', value: driverOptions.startTimeoutMs === undefined ? undefined : `${driverOptions.startTimeoutMs / 1000}` },
    'options.pullTimeoutMs': { flag: '--pull-timeout', value: driverOptions.pullTimeoutMs === undefined ? undefined : `${driverOptions.pullTimeoutMs / 1000}` },
  };
  const found = Object.hasOwn(flags, field) ? flags[field] : undefined;
  return found === undefined ? undefined : { flag: found.flag, ...(typeof found.value === 'string' ? { value: found.value } : {}) };
}

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}

/** `-e KEY=VALUE` flags as an env record; a pair without a name or "=" is a usage error of `usage`'s command. */
export function parseEnv(pairs: readonly string[], usage = RUN_USAGE): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, pair] of pairs.entries()) {
    const at = pair.indexOf('=');
    // Not echoed: `-e =token` or `-e token` (a forgotten name) would print the secret.
    if (at <= 0) throw new UsageError(`-e expects KEY=VALUE (the ${ordinal(i + 1)} -e has ${at === 0 ? 'no name' : 'no "="'}; its text is not shown)`, usage);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

function parseVolume(spec: string): Mount {
  const parts = spec.split(':');
  const [volume, path, mode] = parts;
  const valid = volume !== undefined && volume !== '' && path !== undefined && path !== '' && parts.length <= 3 && (mode === undefined || mode === 'ro' || mode === 'rw');
  if (!valid) throw new UsageError(`-v expects VOLUME:PATH[:ro], got "${spec}"`, RUN_USAGE);
  return { volume, path, readOnly: mode === 'ro' };
}

function parseSeconds(text: string, flag: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`${flag} expects a positive number of seconds, got "${text}"`, RUN_USAGE);
  }
  return Math.ceil(seconds * 1000);
}
