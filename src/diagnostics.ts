import { channel } from 'node:diagnostics_channel';

/**
 * Lifecycle events on Node's `diagnostics_channel`: drivetrain itself prints nothing; a
 * caller (the CLI, a CI engine) subscribes to what it wants to show. Publishing costs
 * nothing while nobody subscribes.
 */

/** The payload of {@link START_WAITING_CHANNEL}. */
export interface StartWaitingEvent {
  /** The driver's name, e.g. `k8s`. */
  driver: string;
  taskId: string;
  /** Why the task has not started yet, in the engine's words: `ContainerCreating`, `ImagePullBackOff`, `Unschedulable`, … */
  reason: string;
  /** The engine's detail, when it gave one. */
  message?: string;
}

/**
 * `drivetrain:start:waiting`: published while `runContainer` or `startSandbox` waits for a
 * task to start, each time the reason (or its message) changes. Subscribe with
 * `diagnostics_channel.subscribe(START_WAITING_CHANNEL, (event) => …)`.
 */
export const START_WAITING_CHANNEL = 'drivetrain:start:waiting';

const startWaiting = channel(START_WAITING_CHANNEL);

/** Publishes a {@link StartWaitingEvent} when someone listens. */
export function publishStartWaiting(event: StartWaitingEvent): void {
  if (startWaiting.hasSubscribers) startWaiting.publish(event);
}
