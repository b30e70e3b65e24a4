import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Writable } from 'node:stream';
import { CHANNELS, describeEvent, type EventName, type EventPayloads } from '../kit/events.js';

/** The flag that makes every command print what the drivers do. */
export const VERBOSE_FLAG = '--verbose';

/**
 * Takes `--verbose` out of a command line (anywhere before `--`: after it, words are the
 * task's own): the commands' own parsers never see it.
 */
export function takeVerbose(argv: readonly string[]): { argv: string[]; verbose: boolean } {
  const end = argv.indexOf('--');
  const head = end === -1 ? [...argv] : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end);
  const kept = head.filter((word) => word !== VERBOSE_FLAG);
  return { argv: [...kept, ...tail], verbose: kept.length !== head.length };
}

/** Subscribes `listener` to each of `names`; returns the function that unsubscribes them all. */
function listen(names: readonly EventName[], listener: (name: EventName, event: EventPayloads[EventName]) => void): () => void {
  const handlers = names.map((name) => {
    const handler = (message: unknown): void => listener(name, message as EventPayloads[EventName]);
    subscribe(CHANNELS[name], handler);
    return () => void unsubscribe(CHANNELS[name], handler);
  });
  return () => {
    for (const stop of handlers) stop();
  };
}

/** `--verbose`: every lifecycle event as one line on `stderr`. Returns the function that stops it. */
export function printEvents(stderr: Writable): () => void {
  return listen(Object.keys(CHANNELS) as EventName[], (name, event) => {
    stderr.write(`drivetrain: [${event.driver} ${event.namespace}] ${describeEvent(name, event)}\n`);
  });
}

/**
 * Image pulls shown on a terminal: one line per pull, rewritten in place as bytes arrive
 * and ended when the pull ends. Nothing is shown when `stderr` is not a terminal.
 */
export function showPullProgress(stderr: Writable & { isTTY?: boolean }): () => void {
  if (stderr.isTTY !== true) return () => {};
  return listen(['imagePullStart', 'imagePullProgress', 'imagePullEnd'], (name, event) => {
    const line = describeEvent(name, event);
    if (name === 'imagePullProgress') stderr.write(`\r\x1b[2K${line}`);
    else if (name === 'imagePullStart') stderr.write(`${line}`);
    else stderr.write(`\r\x1b[2K${line}\n`);
  });
}
