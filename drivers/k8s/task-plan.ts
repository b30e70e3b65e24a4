import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { FULL_CAPABILITIES } from '../../src/capabilities.js';
import { assertServicesSupported } from '../../src/services.js';
import { assertTerminalSupported } from '../../src/terminal.js';
import type { SandboxTask, Task } from '../../src/types.js';
import { validateSandboxTask, validateTask, type ResolvedTask } from '../../src/validate.js';
import type { K8sContext } from './context.js';
import type { ResolvedK8sOptions } from './options.js';
import { buildPod, IDLE_COMMAND, taskObject, type K8sPodObject, type K8sTaskObject } from './pod-spec.js';
import { terminalCommand } from './terminal.js';
import { volumeClaim } from './volumes.js';

/**
 * A task checked and built into the object a start creates, with no I/O: `runContainer` and
 * `startSandbox` create what these build, and `renderTask` and `renderSandbox` return it, so
 * the two can never differ, in the object or in the error of a bad task.
 */

/** What {@link K8sDriver.renderTask} and {@link K8sDriver.renderSandbox} return: the objects a start would create. */
export interface K8sRenderedTask<T extends K8sTaskObject = K8sTaskObject> {
  /** The task's Pod (pod mode, and every sandbox) or Job (job mode); `kind` tells which. */
  object: T;
  /** The claims of the task's volumes, one per volume in the order of first mount: a start creates each that does not exist yet (of `defaultVolumeSizeBytes`). */
  volumeClaims: V1PersistentVolumeClaim[];
}

/** Validates a task (as every driver does, then what the k8s driver's capabilities refuse) and builds its Pod or Job. */
export function planTask(task: Task, options: ResolvedK8sOptions): { resolved: ResolvedTask; tty: boolean; object: K8sTaskObject } {
  const resolved = validateTask(task);
  assertTerminalSupported('k8s', FULL_CAPABILITIES, resolved);
  assertServicesSupported('k8s', FULL_CAPABILITIES, resolved);
  const tty = resolved.tty !== undefined;
  const command = tty ? terminalCommand(resolved.command) : resolved.command;
  const pod = buildPod(resolved, { role: 'task', command, stdin: resolved.stdin !== undefined, tty, timeoutMs: resolved.timeoutMs }, options);
  return { resolved, tty, object: taskObject(pod, 'task', options) };
}

/** Validates a sandbox task and builds its pod. */
export function planSandbox(task: SandboxTask, options: ResolvedK8sOptions): { resolved: Omit<ResolvedTask, 'command'>; object: K8sPodObject } {
  const resolved = validateSandboxTask(task);
  assertServicesSupported('k8s', FULL_CAPABILITIES, resolved);
  const pod = buildPod(resolved, { role: 'sandbox', command: IDLE_COMMAND, stdin: false }, options);
  return { resolved, object: { ...pod, kind: 'Pod' } };
}

/** The claims a start creates for `mounts` when absent: one per volume, in the order of first mount. */
export function claimsOf(ctx: Pick<K8sContext, 'options' | 'ns'>, mounts: ResolvedTask['mounts']): V1PersistentVolumeClaim[] {
  return [...new Set(mounts.map((mount) => mount.volume))].map((volume) => volumeClaim(ctx, volume));
}
