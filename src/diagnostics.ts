import { CHANNELS, type EventPayloads } from './kit/events.js';

/**
 * The channel the CLI and engines listened to before every lifecycle event had one: now the
 * lifecycle's `drivetrain:task:waiting` (see docs/events.md for all of them).
 */

/** The payload of {@link START_WAITING_CHANNEL}. */
export type StartWaitingEvent = EventPayloads['taskWaiting'];

/**
 * `drivetrain:task:waiting`: published while `runContainer` or `startSandbox` waits for a
 * task to start, each time the reason (or its message) changes. Subscribe with
 * `diagnostics_channel.subscribe(START_WAITING_CHANNEL, (event) => …)`.
 */
export const START_WAITING_CHANNEL = CHANNELS.taskWaiting;
