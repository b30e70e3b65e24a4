import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import type { ContainerStatus, StdinSource, TerminalOptions } from '../../src/types.js';
import type { Writable } from 'node:stream';
import { isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';
import { execInPod } from './remote.js';
import { execArgv, execSettings } from './exec-argv.js';
import { validateTerminalOptions } from '../../src/terminal.js';

/** Options of `execInWorkload`: which workload, which container, the command and its streams. */
export interface WorkloadExecOptions extends TerminalOptions {
  /** A Deployment in the driver's Kubernetes namespace; its selector picks the pods. */
  deployment?: string;
  /** A label selector picking the pods (when no `deployment` is given); must not be empty. */
  labelSelector?: string;
  /** The container; required when the pod has several. @default the pod's only container */
  container?: string;
  /** The command and its arguments (no shell). */
  command: readonly string[];
  /**
   * Variables added to the command's environment (over the container's own), as a sandbox
   * exec's `env`. With `env` or `workDir` the command runs through `env` (and `sh` for
   * `workDir`), which the container must have. @default none added
   */
  env?: Readonly<Record<string, string>>;
  /**
   * Where the command runs: absolute, or relative to the container's working directory; a
   * directory that does not exist ends the exec with exit code 126.
   * @default the container's working directory
   */
  workDir?: string;
  stdin?: StdinSource;
  stdout?: Writable;
  stderr?: Writable;
  signal?: AbortSignal;
}

/**
 * A LabelSelector object as a label selector string, every part kept: `matchLabels` pairs and
 * `matchExpressions` (In, NotIn, Exists, DoesNotExist), as apimachinery's
 * `LabelSelectorAsSelector` reads them. An empty selector would match every pod of the
 * namespace: it is an error here, never "any pod".
 */
export function selectorToString(selector: V1LabelSelector | undefined, what: string): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) throw new InvalidInputError(`${what}.matchExpressions`, `values for the ${expression.operator} operator on "${expression.key}"`);
        parts.push(`${expression.key} ${expression.operator.toLowerCase()} (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(expression.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expression.key}`);
        break;
      default:
        throw new InvalidInputError(`${what}.matchExpressions`, 'operators In, NotIn, Exists or DoesNotExist', expression.operator);
    }
  }
  if (parts.length === 0) throw new InvalidInputError(what, 'a selector with at least one label requirement (an empty one would match every pod)');
  return parts.join(',');
}

/** True when the pod is Running with its Ready condition True. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Picks the container to exec in, or explains which ones exist. */
export function chooseContainer(pod: V1Pod, wanted: string | undefined): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (wanted !== undefined) {
    if (!names.includes(wanted)) throw new InvalidInputError('container', `one of the containers of pod "${pod.metadata?.name}": ${names.join(', ')}`, wanted);
    return wanted;
  }
  if (names.length === 1) return names[0] as string;
  throw new InvalidInputError('container', `a container name: pod "${pod.metadata?.name}" has several (${names.join(', ')})`);
}

/** Runs a command in the first ready pod of a workload the driver did not make. */
export async function execInWorkload(ctx: K8sContext, options: WorkloadExecOptions): Promise<ContainerStatus> {
  const { signal } = options;
  // The sandbox exec's rules for the command, env and workDir; no directory of its own to resolve against.
  const settings = execSettings(options.command, options, undefined);
  const terminal = validateTerminalOptions(options, 'options');
  if ((options.deployment === undefined) === (options.labelSelector === undefined)) {
    throw new InvalidInputError('deployment/labelSelector', 'exactly one of `deployment` or `labelSelector`');
  }
  if (options.labelSelector !== undefined && (typeof options.labelSelector !== 'string' || options.labelSelector.trim() === '')) {
    throw new InvalidInputError('labelSelector', 'a non-empty label selector (an empty one would match every pod)', options.labelSelector);
  }
  let selector = options.labelSelector;
  let searched = `pods matching "${selector}"`;
  if (options.deployment !== undefined) {
    const name = options.deployment;
    const deployment = await ctx.call(`get deployment "${name}"`, () => ctx.apps.readNamespacedDeployment({ name, namespace: ctx.ns }), signal).catch((error: unknown) => {
      if (isNotFound(error)) {
        throw new NotFoundError(`deployment "${name}" not found in Kubernetes namespace "${ctx.ns}"; check the name and namespace, and \`kubectl auth can-i get deployments -n ${ctx.ns}\``, { cause: error });
      }
      throw error;
    });
    selector = selectorToString(deployment.spec?.selector, `deployment "${name}" spec.selector`);
    searched = `pods of deployment "${name}" (selector "${selector}")`;
  }
  const pods = await ctx.call(`list ${searched}`, () => ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector: selector }), signal).catch((error: unknown) => {
    if (isNotFound(error)) throw new NotFoundError(`Kubernetes namespace "${ctx.ns}" not found; check \`kubectl get namespace ${ctx.ns}\``, { cause: error });
    throw error;
  });
  if (pods.items.length === 0) {
    throw new NotFoundError(`no ${searched} in Kubernetes namespace "${ctx.ns}"; check \`kubectl get pods -n ${ctx.ns} -l '${selector}'\` and \`kubectl auth can-i list pods -n ${ctx.ns}\``);
  }
  const pod = pods.items.find(isReady);
  if (pod === undefined) {
    throw new NotFoundError(`none of the ${pods.items.length} ${searched} in Kubernetes namespace "${ctx.ns}" is ready; check \`kubectl get pods -n ${ctx.ns} -l '${selector}'\``);
  }
  const container = chooseContainer(pod, options.container);
  const { stdin, stdout, stderr } = options;
  return execInPod(ctx, { namespace: ctx.ns, pod: pod.metadata?.name as string, container }, execArgv(options.command, settings), { stdin, stdout, stderr, signal, ...terminal });
}
