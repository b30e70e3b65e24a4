import { ConflictError, NotFoundError } from '../../src/errors.js';
import { anySignal } from '../../src/abort.js';
import { engineCall, type DockerContext } from './context.js';

/** Longest a single removal may take when the caller gave no signal, in milliseconds. */
export const REMOVAL_TIMEOUT_MS = 15_000;

/**
 * Removes a container at once: `force` kills it with SIGKILL first (no graceful
 * stop: its output is already in the engine's log). Already gone, or already being
 * removed, is success.
 */
export async function removeContainer(ctx: DockerContext, engineId: string, signal?: AbortSignal): Promise<void> {
  const bounded = anySignal([signal], REMOVAL_TIMEOUT_MS);
  try {
    await engineCall(ctx, { kind: 'other', what: 'container removal' }, () => ctx.docker().getContainer(engineId).remove({ force: true, v: true, abortSignal: bounded }), { signal: bounded, idempotent: true });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    // 409: another caller is removing it already; done once the engine says it is gone.
    if (error instanceof ConflictError) return waitUntilRemoved(ctx, engineId, bounded);
    throw error;
  }
}

async function waitUntilRemoved(ctx: DockerContext, engineId: string, signal: AbortSignal): Promise<void> {
  try {
    await engineCall(ctx, { kind: 'other', what: 'container removal' }, () => ctx.docker().getContainer(engineId).wait({ condition: 'removed', abortSignal: signal }), { signal, idempotent: true });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/** Removes a container, swallowing every error: for undoing a failed start, where the first error is the one to report. */
export async function removeContainerQuietly(ctx: DockerContext, engineId: string): Promise<void> {
  await removeContainer(ctx, engineId).catch(() => {});
}

/** Removes a volume; already gone is success, in use is `ConflictError`. */
export async function removeVolume(ctx: DockerContext, dockerName: string, signal?: AbortSignal): Promise<void> {
  const bounded = anySignal([signal], REMOVAL_TIMEOUT_MS);
  try {
    await engineCall(ctx, { kind: 'volume', name: dockerName }, () => ctx.docker().getVolume(dockerName).remove({ abortSignal: bounded }), { signal: bounded, idempotent: true });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    if (error instanceof ConflictError) throw new ConflictError(`volume "${dockerName}" is in use by a container: ${error.message}`, { cause: error });
    throw error;
  }
}
