import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Writable } from 'node:stream';
import { START_WAITING_CHANNEL, type StartWaitingEvent } from '../diagnostics.js';

/** Reasons every start goes through: not worth a line. */
const ROUTINE_REASONS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * While a task waits to start, prints why on `stderr` (one line each time the reason
 * changes; routine ones such as `ContainerCreating` are not printed), so a typo'd image or
 * an unschedulable pod is not a silent wait. Returns the function that stops reporting.
 */
export function reportStartWaiting(stderr: Writable): () => void {
  const print = (message: unknown): void => {
    const event = message as StartWaitingEvent;
    if (ROUTINE_REASONS.has(event.reason)) return;
    const detail = event.message === undefined || event.message === '' ? '' : `: ${event.message}`;
    stderr.write(`drivetrain: waiting for task "${event.taskId}" to start: ${event.reason}${detail}\n`);
  };
  subscribe(START_WAITING_CHANNEL, print);
  return () => void unsubscribe(START_WAITING_CHANNEL, print);
}
