import { anySignal, delay } from '../../src/abort.js';
import { EngineUnavailableError } from '../../src/errors.js';
import { engineCall, quickEngineCall, type DockerContext } from './context.js';
import type { EngineSubject } from './engine-errors.js';

/** Long polls opened again after one failed with the engine unreachable (e.g. across a restart). */
const MAX_REOPENED_WAITS = 3;

/** Liveness checks in a row that may find the engine unreachable before the wait gives up. */
const MAX_FAILED_CHECKS = 3;

/**
 * Resolves once the container is no longer running: by the engine's wait API,
 * or by an inspect every `livenessIntervalMs` that finds it stopped. The wait API is a
 * long poll, silent until the exit by design: when its connection is lost silently (an
 * engine restart, a half-open connection) it would wait forever for an exit that already
 * happened. An engine that answers none of {@link MAX_FAILED_CHECKS} checks in a row
 * rejects the wait with `EngineUnavailableError`. Rejects with the caller's abort reason or a normalised engine
 * error; a removed container rejects with `ContainerNotFoundError`.
 */
export async function waitUntilStopped(ctx: DockerContext, engineId: string, subject: EngineSubject, signal: AbortSignal | undefined): Promise<void> {
  const finished = new AbortController();
  const scope = anySignal([signal, finished.signal]);
  let reopened = 0;
  let failedChecks = 0;
  const openLongPoll = (): Promise<'exited'> =>
    engineCall(ctx, subject, () => ctx.docker().getContainer(engineId).wait({ condition: 'not-running', abortSignal: scope }), { signal: scope, idempotent: true }).then(() => 'exited' as const);
  let longPoll = openLongPoll();
  try {
    for (;;) {
      longPoll.catch(() => {});
      const tick = delay(ctx.options.livenessIntervalMs, scope).then(() => 'check' as const);
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
      let info;
      try {
        info = await quickEngineCall(ctx, subject, (bounded) => ctx.docker().getContainer(engineId).inspect({ abortSignal: bounded }), { signal: scope });
      } catch (error) {
        if (!(error instanceof EngineUnavailableError) || signal?.aborted === true || ++failedChecks >= MAX_FAILED_CHECKS) throw error;
        continue;
      }
      failedChecks = 0;
      if (info.State.Running !== true) return;
    }
  } finally {
    finished.abort();
  }
}
