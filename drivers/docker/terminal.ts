import type Dockerode from 'dockerode';
import { delay, raceAbort } from '../../src/abort.js';
import { followTerminalSizes } from '../../src/terminal.js';
import type { TerminalSize } from '../../src/types.js';
import { quickEngineCall, type DockerContext } from './context.js';
import type { EngineSubject } from './engine-errors.js';
import { waitUntilStopped } from './wait-exit.js';

/** Tries of the first resize: the engine refuses it until the process's terminal exists. */
const FIRST_RESIZE_TRIES = 20;

/** Something the engine can resize: a container (`POST /containers/{id}/resize`) or an exec (`POST /exec/{id}/resize`). */
type Resizable = Pick<Dockerode.Container, 'resize'> | Pick<Dockerode.Exec, 'resize'>;

/**
 * Gives a running process's terminal its first size, then each size of `sizes` until `ended`
 * aborts. Engines from API 1.42 (Docker 23) take the first size at create (`ConsoleSize`);
 * older ones (20.10) ignore that on Linux, so the size is also set right after the start,
 * retried briefly while the engine has no terminal to resize yet. Never rejects.
 */
export async function driveTerminal(ctx: DockerContext, target: Resizable, subject: EngineSubject, first: TerminalSize, sizes: AsyncIterable<TerminalSize> | undefined, ended: AbortSignal): Promise<void> {
  const resize = (size: TerminalSize): Promise<void> =>
    quickEngineCall(ctx, subject, (bounded) => raceAbort(target.resize({ h: size.rows, w: size.columns }) as Promise<unknown>, bounded), { signal: ended }).then(() => undefined);
  for (let attempt = 1; attempt <= FIRST_RESIZE_TRIES && !ended.aborted; attempt++) {
    try {
      await resize(first);
      break;
    } catch {
      await delay(Math.min(5 * attempt, 50), ended).catch(() => {});
    }
  }
  await followTerminalSizes(sizes, resize, ended);
}

/** An abort signal that fires once the container stopped (or the driver closed, or waiting failed). */
export function containerEnded(ctx: DockerContext, engineId: string, subject: EngineSubject): AbortSignal {
  const ended = new AbortController();
  const onClose = (): void => ended.abort();
  ctx.lifetime.addEventListener('abort', onClose, { once: true });
  void waitUntilStopped(ctx, engineId, subject, ctx.lifetime)
    .catch(() => {})
    .finally(() => {
      ctx.lifetime.removeEventListener('abort', onClose);
      ended.abort();
    });
  return ended.signal;
}
