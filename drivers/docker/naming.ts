import { LABELS, type ResourceRole } from '../../src/labels.js';
import { toDnsLabel } from '../../src/names.js';
import { currentOwner, formatOwner } from '../../src/kit/owner.js';

/**
 * Names and labels of everything the Docker driver makes. Names are deterministic
 * so that a task ID maps to one container per namespace, whichever driver instance
 * asks. The namespace and what follows are joined by `--` or `_`, which no namespace
 * contains, so names of two namespaces never meet; `toDnsLabel` never yields `_` (nor
 * `--`), so the `_`-separated sandbox and helper names never meet a task's name.
 */

/** Label keys only the Docker driver uses. */
export const DOCKER_LABELS = {
  /** The task's `timeoutMs`, so any driver instance can tell a deadline kill from another SIGKILL. */
  timeoutMs: 'drivetrain.dev/timeout-ms',
  /** The size a volume was requested with (Docker local volumes cannot enforce it). */
  sizeBytes: 'drivetrain.dev/size-bytes',
  /** On a service container and the network holder: what owns them, `task` or `sandbox` (with the task ID label). */
  serviceOf: 'drivetrain.dev/service-of',
  /** On a service container: the service's name. */
  service: 'drivetrain.dev/service',
  /** On a process's owner heartbeat and on the marks of the namespaces it owns: the record's key (random, one per process and engine). */
  ownerHeartbeat: 'drivetrain.dev/owner-heartbeat',
} as const;

/** The container name of a task. */
export function taskContainerName(namespace: string, taskId: string): string {
  return `dt-${namespace}--${toDnsLabel(taskId)}`;
}

/** The container name of a sandbox. */
export function sandboxContainerName(namespace: string, taskId: string): string {
  return `dt-${namespace}_sandbox-${toDnsLabel(taskId)}`;
}

/** The container name of a service of a task or sandbox. */
export function serviceContainerName(namespace: string, owner: 'task' | 'sandbox', taskId: string, service: string): string {
  return `dt-${namespace}_${owner}-svc-${toDnsLabel(taskId)}_${service}`;
}

/** The container name of the network holder of a task or sandbox with services: it owns their shared network namespace. */
export function networkHolderName(namespace: string, owner: 'task' | 'sandbox', taskId: string): string {
  return `dt-${namespace}_${owner}-net-${toDnsLabel(taskId)}`;
}

/** The Docker volume name of a drivetrain volume. */
export function volumeName(namespace: string, name: string): string {
  return `dt-${namespace}--${name}`;
}

/** The labels every resource of a namespace carries. */
export function baseLabels(namespace: string, role: ResourceRole): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.namespace]: namespace, [LABELS.role]: role, [LABELS.owner]: formatOwner(currentOwner()) };
}

/** The Docker volume name of a namespace's mark in its process's owner record: `_` keeps it from every drivetrain volume's name. */
export function ownerMarkName(namespace: string, ownerKey: string): string {
  return `dt-${namespace}_owner-${ownerKey}`;
}

/** The Docker volume name of one heartbeat of a process's owner record: `dt_` is no namespace's prefix (`dt-`). */
export function heartbeatVolumeName(ownerKey: string, heartbeat: number): string {
  return `dt_owner-${ownerKey}-${heartbeat.toString(36)}`;
}

/** The labels of a process's heartbeat: drivetrain's, of no namespace, so that no namespace's close removes it. */
export function heartbeatLabels(ownerKey: string, leaseSeconds: number): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.role]: 'owner-heartbeat',
    [LABELS.owner]: formatOwner(currentOwner()),
    [LABELS.leaseSeconds]: String(leaseSeconds),
    [DOCKER_LABELS.ownerHeartbeat]: ownerKey,
  };
}

/** Label filter for everything drivetrain made on the engine, any namespace. */
export const MANAGED_FILTER = { label: [`${LABELS.managed}=true`] };

/** Label filter for everything of a namespace, for list calls. */
export function namespaceFilter(namespace: string): { label: string[] } {
  return { label: [`${LABELS.managed}=true`, `${LABELS.namespace}=${namespace}`] };
}
