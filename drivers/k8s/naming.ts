import { LABELS, type ResourceRole } from '../../src/labels.js';
import { looksHashed, toDnsLabel, withHash } from '../../src/names.js';

/**
 * Names and labels of the Kubernetes objects the driver makes. Every name is one
 * DNS-1123 label (≤ 63 characters): `dt-<namespace>--<part>`, where the part is the task
 * ID or volume name sanitised with a hash whenever anything was changed or cut. Namespaces
 * never contain `--` and sanitised parts never do, so the first `--` ends the namespace:
 * names of two namespaces never meet, and a helper's part (which holds `--`) never meets
 * a task's.
 */

/** Annotation that keeps the raw, unsanitised task ID, which label values cannot always hold. */
export const TASK_ID_ANNOTATION = 'drivetrain.dev/task-id';

/**
 * `raw` as a Kubernetes label value (`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63
 * characters, case kept). Unchanged input is returned as is; otherwise (and when it already
 * ends in `-` and ten hex digits) `-<hash of raw>` is appended, so two inputs never share a value.
 */
export function toLabelValue(raw: string, maxLength = 63): string {
  if (raw === '') return '';
  const cleaned = raw.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned === raw && raw.length <= maxLength && !looksHashed(raw)) return raw;
  return withHash(cleaned, raw, maxLength, /[^A-Za-z0-9]+$/);
}

/** Longest object name: a DNS-1123 label. */
const MAX_NAME = 63;

/** `dt-<namespace>--<part>`, the part sanitised to fit. */
function objectName(namespace: string, part: string): string {
  const prefix = `dt-${namespace}--`;
  return prefix + toDnsLabel(part, MAX_NAME - prefix.length);
}

/** The pod (or Job) name of a task or sandbox. */
export function taskObjectName(namespace: string, taskId: string): string {
  return objectName(namespace, taskId);
}

/** The PersistentVolumeClaim name of a drivetrain volume. */
export function claimName(namespace: string, volume: string): string {
  return objectName(namespace, `vol-${volume}`);
}

/**
 * A helper pod's name: unique per call (`nonce`: 8 lower-case hex characters), so concurrent
 * copies never collide; the volume is in its labels. At most 61 characters.
 */
export function helperPodName(namespace: string, nonce: string): string {
  return `dt-${namespace}--helper--${nonce}`;
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
