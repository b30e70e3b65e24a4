import { LABELS, TASK_ID_ANNOTATION, type ResourceRole } from '../../src/labels.js';
import { shortHash, toDnsLabel, toLabelValue } from '../../src/names.js';

/**
 * Names and labels of the Kubernetes objects the driver makes. Every name is one
 * DNS-1123 label (≤ 63 characters) derived from the drivetrain namespace and the
 * task ID or volume name as a whole, with a hash whenever anything was changed or cut.
 */

/** The pod (or Job) name of a task: `dt-<namespace>-<id>` sanitised as a whole. */
export function taskObjectName(namespace: string, taskId: string): string {
  return toDnsLabel(`dt-${namespace}-${taskId}`);
}

/** The PersistentVolumeClaim name of a drivetrain volume. */
export function claimName(namespace: string, volume: string): string {
  return toDnsLabel(`dt-${namespace}-vol-${volume}`);
}

/** A helper pod's name: unique per call, so concurrent copies never collide. */
export function helperPodName(namespace: string, volume: string, nonce: string): string {
  return toDnsLabel(`dt-${namespace}-helper-${shortHash(volume).slice(0, 6)}-${nonce}`);
}

/** The label selector of everything one drivetrain namespace made. */
export function namespaceSelector(namespace: string): string {
  return `${LABELS.managed}=true,${LABELS.namespace}=${toLabelValue(namespace)}`;
}

/** Labels of a drivetrain object. */
export function objectLabels(namespace: string, role: ResourceRole, extra: { taskId?: string; volume?: string } = {}): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managed]: 'true',
    [LABELS.namespace]: toLabelValue(namespace),
    [LABELS.role]: role,
  };
  if (extra.taskId !== undefined) labels[LABELS.taskId] = toLabelValue(extra.taskId);
  if (extra.volume !== undefined) labels[LABELS.volume] = toLabelValue(extra.volume);
  return labels;
}

/** Annotations of an object made for a task: the raw task ID, which labels cannot hold. */
export function taskAnnotations(taskId: string): Record<string, string> {
  return { [TASK_ID_ANNOTATION]: taskId };
}

/** The name of the task's container inside its pod. */
export const TASK_CONTAINER = 'task';
