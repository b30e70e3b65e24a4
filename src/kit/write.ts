import { Writable } from 'node:stream';

/**
 * Writing to a caller's destination with back-pressure: a destination that asks to wait
 * (`write()` returned false) is waited for, so output is never buffered whole in memory, and
 * one that fails or closes meanwhile fails the copy instead of hanging it.
 */

/** Writes `chunk`; resolves at once, or once the destination has drained. */
export function writeWithBackpressure(target: Writable, chunk: Uint8Array): Promise<void> {
  if (target.destroyed) return Promise.reject(new Error('the output stream was destroyed'));
  if (target.write(chunk)) return Promise.resolve();
  return drained(target);
}

/** Resolves once `target` emits `drain`; rejects when it errors or closes first. */
export function drained(target: Writable): Promise<void> {
  if (target.destroyed) return Promise.reject(new Error('the output stream was destroyed'));
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      target.off('drain', onDrain);
      target.off('error', onError);
      target.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('the output stream was closed'));
    target.once('drain', onDrain);
    target.once('error', onError);
    target.once('close', onClose);
  });
}

/**
 * A Writable that hands every chunk on to `target` with back-pressure and never ends it (a
 * caller's stdout outlives one task's output); without a target, or once the caller destroyed
 * it (it takes no more), chunks are dropped: the task's own output is not failed by that.
 */
export function relayTo(target: Writable | undefined): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (target === undefined || target.destroyed) return callback();
      writeWithBackpressure(target, chunk).then(() => callback(), callback);
    },
  });
}
