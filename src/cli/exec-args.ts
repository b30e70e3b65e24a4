import { TERMINAL_OPTIONS, TERMINAL_USAGE, terminalRequest, type TerminalRequest } from './terminal-flags.js';
import { parseEnv } from './run-args.js';
import { UsageError, parseCommandLine } from './usage.js';

export const EXEC_USAGE = `Usage: drivetrain exec [options] (--deployment NAME | -l SELECTOR) -- COMMAND [ARG...]

Runs COMMAND in the first ready pod of an existing Kubernetes workload (the k8s driver's
execInWorkload), as \`kubectl exec\` does: streams its output and exits with its exit code.
With -it, on a terminal of this terminal's size, resized with it, this terminal raw while it
runs (Ctrl-C goes to the command) and restored at the end, as \`kubectl exec -it\`.

Options:
  --deployment NAME    a Deployment; its selector picks the pods
  -l, --selector SELECTOR
                       a label selector picking the pods (instead of --deployment)
  -c, --container NAME the container (required when the pod has several)
  -e, --env K=V        add an environment variable to the command's (repeatable)
  -w, --workdir DIR    run the command in DIR: absolute, or relative to the container's
                       working directory (default: the container's); a DIR that does not
                       exist exits 126
  -n, --kubernetes-namespace NS
                       the Kubernetes namespace (default: $DRIVETRAIN_K8S_NAMESPACE, else
                       the kubeconfig context's, else default)
${TERMINAL_USAGE}
  --verbose            print what the driver does on stderr
  -h, --help           show this help

Environment: KUBECONFIG, DRIVETRAIN_K8S_NAMESPACE.

Exit codes: the command's own code; 1 when no pod could be found (the message says what
was searched and what to check); 125 when the command ended without an exit code (the
connection was lost); 2 for bad usage; 130 after Ctrl-C (without -it), 143 after SIGTERM.
`;

/** A parsed `drivetrain exec` command line. */
export interface ExecArgs {
  help: boolean;
  deployment?: string;
  labelSelector?: string;
  container?: string;
  /** `-e` pairs. */
  env: Record<string, string>;
  /** `-w`. */
  workDir?: string;
  kubernetesNamespace?: string;
  command: string[];
  /** `-i` and `-t`. */
  terminal: TerminalRequest;
}

const OPTIONS = {
  deployment: { type: 'string' },
  selector: { type: 'string', short: 'l' },
  container: { type: 'string', short: 'c' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  'kubernetes-namespace': { type: 'string', short: 'n' },
  ...TERMINAL_OPTIONS,
} as const;

/** Parses the arguments after `exec`; the driver checks the values themselves (names, selectors). */
export function parseExecArgs(args: readonly string[]): ExecArgs {
  const { values, positionals } = parseCommandLine(args, OPTIONS, EXEC_USAGE, true);
  const terminal = terminalRequest(values);
  if (values.help === true) return { help: true, command: [], env: {}, terminal };
  if ((values.deployment === undefined) === (values.selector === undefined)) {
    throw new UsageError('name the workload with exactly one of --deployment NAME or -l SELECTOR', EXEC_USAGE);
  }
  if (positionals.length === 0) throw new UsageError('missing COMMAND: put it after "--", e.g. drivetrain exec -it --deployment web -- sh', EXEC_USAGE);
  return {
    help: false,
    ...(values.deployment === undefined ? {} : { deployment: values.deployment }),
    ...(values.selector === undefined ? {} : { labelSelector: values.selector }),
    ...(values.container === undefined ? {} : { container: values.container }),
    env: parseEnv(values.env ?? [], EXEC_USAGE),
    ...(values.workdir === undefined ? {} : { workDir: values.workdir }),
    ...(values['kubernetes-namespace'] === undefined ? {} : { kubernetesNamespace: values['kubernetes-namespace'] }),
    command: positionals,
    terminal,
  };
}
