import type { Readable } from 'node:stream';
import { EngineUnavailableError } from '../../src/errors.js';

/** What a silence check found: the stream may well be quiet (`quiet`), or it is lost. */
export type SilenceVerdict = 'quiet' | 'lost';

/** A watch on one stream from the engine; see {@link watchSilence}. */
export interface SilenceWatch {
  /** The error the stream was destroyed with, once the watch found it lost. */
  readonly tripped: Error | undefined;
  stop(): void;
}

/**
 * Watches a stream from the engine for a half-open connection. After `idleMs` without a
 * byte while the stream flows (a pause for back-pressure is not silence), `check` says
 * what the silence means — a follow of a running container may be quiet for hours — and
 * a lost stream (or a check the engine does not answer) is destroyed with an
 * `EngineUnavailableError` naming the condition, kept as {@link SilenceWatch.tripped}.
 */
export function watchSilence(stream: Readable, idleMs: number, what: string, check: (signal: AbortSignal) => Promise<SilenceVerdict>): SilenceWatch {
  const stopped = new AbortController();
  let tripped: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let heardDuringCheck = false;
  const arm = (): void => {
    clearTimeout(timer);
    if (stopped.signal.aborted || checking) return;
    timer = setTimeout(onIdle, idleMs);
    timer.unref();
  };
  const trip = (error: Error): void => {
    if (stopped.signal.aborted) return;
    tripped = error;
    stream.destroy(error);
  };
  function onIdle(): void {
    if (stream.readableFlowing === false) return arm();
    checking = true;
    heardDuringCheck = false;
    check(stopped.signal).then(
      (verdict) => {
        checking = false;
        if (verdict === 'lost' && !heardDuringCheck) trip(new EngineUnavailableError(`${what}: nothing arrived for ${idleMs} ms (livenessIntervalMs) and the engine says it should have; the connection is half-open`));
        else arm();
      },
      (error: unknown) => {
        checking = false;
        trip(error instanceof Error ? error : new EngineUnavailableError(String(error)));
      },
    );
  }
  const onData = (): void => {
    if (checking) heardDuringCheck = true;
    arm();
  };
  stream.on('data', onData);
  arm();
  return {
    get tripped() {
      return tripped;
    },
    stop() {
      stopped.abort();
      clearTimeout(timer);
      stream.off('data', onData);
    },
  };
}
