/**
 * Label keys drivetrain puts on everything it creates, so that `close` and
 * `drivetrain cleanup` reap by label and never touch anything else.
 */
export const LABELS = {
  /** Marks a resource as made by drivetrain; value `true`. */
  managed: 'drivetrain.dev/managed',
  /** The drivetrain namespace. */
  namespace: 'drivetrain.dev/namespace',
  /** The task ID (sanitised to label rules where the engine needs it). */
  taskId: 'drivetrain.dev/task-id',
  /** What the resource is: `task`, `volume`, `helper`, `sandbox`, `pull-secret`, `service`. */
  role: 'drivetrain.dev/role',
  /** The volume name (volumes only). */
  volume: 'drivetrain.dev/volume',
} as const;

/** Prefix reserved for drivetrain's own labels; user labels may not use it. */
export const RESERVED_LABEL_PREFIX = 'drivetrain.';

/** The kinds of resources drivetrain makes. */
export type ResourceRole = 'task' | 'volume' | 'helper' | 'sandbox' | 'pull-secret' | 'service';
