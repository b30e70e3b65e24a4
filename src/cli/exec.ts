import { InvalidInputError } from '../errors.js';
import { createDriver } from '../registry.js';
import type { Driver } from '../types.js';
import type { K8sDriver } from '../../drivers/k8s/driver.js';
import { EXIT } from './exit-codes.js';
import { EXEC_USAGE, parseExecArgs, type ExecArgs } from './exec-args.js';
import { watchInterrupts } from './interrupts.js';
import { reportError } from './report-error.js';
import { exitCodeOf } from './run.js';
import { openTerminalSession } from './terminal-session.js';
import { UsageError } from './usage.js';

/** Upper bound of closing the driver after the exec, in milliseconds. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * `drivetrain exec`: a command in an existing workload's pod (the k8s driver's
 * `execInWorkload`), with `-i`/`-t` as `kubectl exec -it` has them; exits with the command's code.
 */
export async function execCommand(args: readonly string[]): Promise<number> {
  const parsed = parseExecArgs(args);
  if (parsed.help) {
    process.stdout.write(EXEC_USAGE);
    return EXIT.ok;
  }
  const interrupts = watchInterrupts();
  const terminal = openTerminalSession(parsed.terminal);
  let driver: Driver | undefined;
  try {
    driver = await createDriver('k8s', parsed.kubernetesNamespace === undefined ? {} : { kubernetesNamespace: parsed.kubernetesNamespace });
    const running = (driver as K8sDriver).execInWorkload({
      ...(parsed.deployment === undefined ? {} : { deployment: parsed.deployment }),
      ...(parsed.labelSelector === undefined ? {} : { labelSelector: parsed.labelSelector }),
      ...(parsed.container === undefined ? {} : { container: parsed.container }),
      command: parsed.command,
      ...(Object.keys(parsed.env).length === 0 ? {} : { env: parsed.env }),
      ...(parsed.workDir === undefined ? {} : { workDir: parsed.workDir }),
      ...terminal.fields,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: interrupts.signal,
    });
    // Keys typed from now on are the command's (Ctrl-C included); they wait in the socket's
    // buffer until the exec has connected.
    terminal.enterRawMode();
    const status = await running;
    terminal.close();
    return interrupts.exitCode ?? exitCodeOf(status, parsed.command[0]);
  } catch (error) {
    terminal.close();
    if (interrupts.exitCode !== undefined) return interrupts.exitCode;
    // A value the driver refused (the container, the selector, -e, -w) is the command line's fault: exit 2.
    if (error instanceof InvalidInputError) return reportError(usageErrorOf(error, parsed));
    return reportError(error);
  } finally {
    terminal.close();
    await driver?.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => {});
    interrupts.dispose();
  }
}

/**
 * The usage error for a value the driver refused, naming the flag that gave it (`-e`, whose
 * values may be secrets, without its value); the driver's own message for the others.
 */
function usageErrorOf(error: InvalidInputError, parsed: ExecArgs): UsageError {
  const flag = error.field.startsWith('options.env') ? '-e' : error.field === 'options.workDir' ? `-w/--workdir ${JSON.stringify(parsed.workDir)}` : error.field.startsWith('command') ? 'COMMAND' : undefined;
  return new UsageError(flag === undefined ? error.message : `invalid ${flag}: expected ${error.expected}`, EXEC_USAGE);
}
