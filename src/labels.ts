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
  /**
   * What the resource is: `task`, `volume`, `helper`, `sandbox`, `pull-secret`, `service`,
   * `owner` (an owner record, or a namespace's mark in its process's record), `owner-heartbeat`
   * (a process's owner record on Docker, of no namespace).
   */
  role: 'drivetrain.dev/role',
  /** The volume name (volumes only). */
  volume: 'drivetrain.dev/volume',
  /** The process that made it (Docker): `host/boot ID/pid/pid start time`, see `formatOwner`. */
  owner: 'drivetrain.dev/owner',
  /** How long an owner record holds without renewal, in seconds (Docker owner records). */
  leaseSeconds: 'drivetrain.dev/lease-seconds',
} as const;

/** Prefix reserved for drivetrain's own labels; user labels may not use it. */
export const RESERVED_LABEL_PREFIX = 'drivetrain.';

/** The kinds of resources drivetrain makes. */
export type ResourceRole = 'task' | 'volume' | 'helper' | 'sandbox' | 'pull-secret' | 'service' | 'owner' | 'owner-heartbeat';
