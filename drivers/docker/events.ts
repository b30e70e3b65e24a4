import type { Readable } from 'node:stream';
import { anySignal, raceAbort } from '../../src/abort.js';
import { ContainerNotFoundError } from '../../src/errors.js';
import { engineCall, type DockerContext } from './context.js';
import { CONTAINER_EVENT_FILTERS, subscribeContainerEvents, type ContainerEvent } from './engine-events.js';

/**
 * Waits, on the engine's event stream (no polling; the process's one stream for the
 * engine, shared by every driver: see `engine-events.ts`), until a container leaves the
 * `created` state: `started` once it ran, `gone` when it was removed, `timeout` after
 * `timeoutMs`. This wait's subscription is always ended.
 */
export async function waitWhileCreated(ctx: DockerContext, engineId: string, timeoutMs: number, signal: AbortSignal): Promise<'started' | 'gone' | 'timeout'> {
  const bounded = anySignal([signal], timeoutMs);
  const subject = { kind: 'other', what: 'events' } as const;
  let unsubscribe: (() => void) | undefined;
  try {
    let settle: ((outcome: 'started' | 'gone') => void) | undefined;
    let fail: ((error: Error) => void) | undefined;
    const seen = new Promise<'started' | 'gone'>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    // Not awaited when the inspect already tells: a stream that fails later must not be an unhandled rejection.
    seen.catch(() => {});
    const listener = (event: ContainerEvent | Error): void => {
      if (event instanceof Error) return fail?.(event);
      if (event.id !== engineId) return;
      if (event.action === 'destroy') settle?.('gone');
      else if (event.action === 'start' || event.action === 'die') settle?.('started');
    };
    const docker = ctx.docker();
    const open = (lifetime: AbortSignal): Promise<Readable> =>
      engineCall(ctx, subject, () => docker.getEvents({ filters: CONTAINER_EVENT_FILTERS, abortSignal: lifetime } as never) as unknown as Promise<Readable>, { signal: lifetime, idempotent: true });
    unsubscribe = await subscribeContainerEvents(docker, listener, open, bounded);
    // Subscribed first, inspected second: a start in between cannot be missed.
    const state = await currentState(ctx, engineId, bounded);
    if (state !== 'created') return state === 'gone' || state === 'removing' || state === 'dead' ? 'gone' : 'started';
    return await raceAbort(seen, bounded);
  } catch (error) {
    if (signal.aborted) throw error;
    if (bounded.aborted) return 'timeout';
    throw error;
  } finally {
    unsubscribe?.();
  }
}

async function currentState(ctx: DockerContext, engineId: string, signal: AbortSignal): Promise<string> {
  try {
    const info = await engineCall(ctx, { kind: 'container', taskId: engineId, namespace: ctx.namespace }, () => ctx.docker().getContainer(engineId).inspect({ abortSignal: signal }), { signal, idempotent: true });
    return info.State.Status === 'created' && !info.State.Error ? 'created' : info.State.Status;
  } catch (error) {
    if (error instanceof ContainerNotFoundError) return 'gone';
    throw error;
  }
}

/** The action of one event line (`start`, `die`, `destroy`, …). */
function parseAction(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { Action?: unknown };
    return typeof event.Action === 'string' ? event.Action : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long after a container's exit the engine may still report its OOM kill, in milliseconds:
 * containerd's OOM event was seen up to 800 ms after the exit on a loaded machine.
 */
const OOM_EVENT_GRACE_MS = 2_000;

/**
 * Whether the engine recorded an `oom` event for the container during its run. The
 * engine learns of an OOM kill asynchronously and can record the exit first, leaving
 * `State.OOMKilled` false; its event log (replayed with `since`/`until`) settles it.
 * Waits at most {@link OOM_EVENT_GRACE_MS} past the exit.
 */
export async function sawOomEvent(ctx: DockerContext, engineId: string, startedAt: string, finishedAt: string, signal?: AbortSignal): Promise<boolean> {
  const since = Date.parse(startedAt);
  const until = Date.parse(finishedAt) + OOM_EVENT_GRACE_MS;
  if (!Number.isFinite(since) || !Number.isFinite(until)) return false;
  const bounded = anySignal([signal], OOM_EVENT_GRACE_MS + 5_000);
  const options = {
    since: (since / 1000).toFixed(3),
    until: (until / 1000).toFixed(3),
    filters: { container: [engineId], type: ['container'], event: ['oom'] },
    abortSignal: bounded,
  };
  const stream = await engineCall(ctx, { kind: 'other', what: 'events' }, () => ctx.docker().getEvents(options as never) as unknown as Promise<Readable>, { signal: bounded, idempotent: true });
  try {
    let text = '';
    for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
    return text.split('\n').some((line) => parseAction(line) === 'oom');
  } finally {
    stream.destroy();
  }
}
