import { anySignal, delay } from '../../src/abort.js';
import { EngineUnavailableError } from '../../src/errors.js';
import { engineCall, type DockerContext } from './context.js';
import type { EngineSubject } from './engine-errors.js';

/**
 * How often (ms) a pending wait asks the engine whether the container still runs.
 * The engine's wait API is a long poll; when the engine restarts, its connection
 * can die without the client ever seeing an error or an end, so the long poll
 * alone could wait forever for an exit that already happened.
 */
const LIVENESS_CHECK_MS = 5_000;

/** Long polls opened again after one failed with the engine unreachable (e.g. across a restart). */
const MAX_REOPENED_WAITS = 3;

/**
 * Resolves once the container is no longer running: by the engine's wait API,
 * or by an inspect that finds it stopped (the long poll's connection may have been
 * lost silently). Rejects with the caller's abort reason or a normalised engine
 * error; a removed container rejects with `ContainerNotFoundError`.
 */
export async function waitUntilStopped(ctx: DockerContext, engineId: string, subject: EngineSubject, signal: AbortSignal | undefined): Promise<void> {
  const finished = new AbortController();
  const scope = anySignal([signal, finished.signal]);
  let reopened = 0;
  const openLongPoll = (): Promise<'exited'> =>
    engineCall(ctx, subject, () => ctx.docker().getContainer(engineId).wait({ condition: 'not-running', abortSignal: scope }), { signal: scope, idempotent: true }).then(() => 'exited' as const);
  let longPoll = openLongPoll();
  try {
    for (;;) {
      longPoll.catch(() => {});
      const tick = delay(LIVENESS_CHECK_MS, scope).then(() => 'check' as const);
      tick.catch(() => {});
      let outcome: 'exited' | 'check';
      try {
        outcome = await Promise.race([longPoll, tick]);
      } catch (error) {
        // The engine went away under the long poll: ask again (bounded) once it answers.
        if (!(error instanceof EngineUnavailableError) || signal?.aborted === true || reopened >= MAX_REOPENED_WAITS) throw error;
        reopened += 1;
        longPoll = openLongPoll();
        continue;
      }
      if (outcome === 'exited') return;
      const info = await engineCall(ctx, subject, () => ctx.docker().getContainer(engineId).inspect({ abortSignal: scope }), { signal: scope, idempotent: true });
      if (info.State.Running !== true) return;
    }
  } finally {
    finished.abort();
  }
}
