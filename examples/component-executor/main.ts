// `node main.ts run TASK [--namespace NS] [--config FILE]`: runs a task in its component's pod (see README.md).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubernetesExecutor, resolveNamespace, type Config } from './executor.ts';
import { lendTerminal, type LocalTerminal } from './terminal.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { namespace: { type: 'string', short: 'n' }, config: { type: 'string', default: new URL('emb.config.json', import.meta.url).pathname } },
});
const [command, taskName] = positionals;
if (command !== 'run' || taskName === undefined || positionals.length !== 2) {
  console.error('usage: main.ts run TASK [--namespace NS] [--config FILE]');
  process.exit(2);
}

const config = JSON.parse(readFileSync(values.config, 'utf8')) as Config;
const { namespace, source } = resolveNamespace(values.namespace, config);
const executor = new KubernetesExecutor(config, namespace);
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
let terminal: LocalTerminal | undefined;
try {
  const task = config.tasks[taskName];
  console.error(`emb: ${taskName} on ${task?.component ?? '?'}, Kubernetes namespace ${executor.namespace} (from ${source === 'context' ? 'the kubeconfig context, else default' : source})`);
  // An interactive task borrows this terminal while it runs (raw mode: Ctrl-C is the task's).
  if (executor.isInteractive(taskName)) terminal = lendTerminal();
  // The task's own output passes through as bytes; the exit code is the task's.
  const exitCode = await executor.run(taskName, { stdout: process.stdout, stderr: process.stderr, signal: interrupt.signal, terminal });
  if (exitCode === null) console.error(`emb: ${taskName}: the connection to the pod was lost before the task's exit code arrived`);
  process.exitCode = exitCode ?? 1;
} catch (error) {
  console.error(`emb: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  terminal?.restore();
  await executor.close();
  // The task's input was this terminal, still being read: nothing else would end the process.
  if (terminal !== undefined) process.exit();
}
