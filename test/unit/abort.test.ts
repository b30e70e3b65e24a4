import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortReason, anySignal, delay, isAbortError, raceAbort, throwIfAborted } from '../../src/abort.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('raceAbort', () => {
  it('settles like the promise when the signal does not fire, and removes its listener', async () => {
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(raceAbort(Promise.reject(new Error('boom')), controller.signal)).rejects.toThrow('boom');
    expect(listeners(controller.signal)).toBe(0);
  });

  it("rejects with the signal's reason when it fires first; the promise's later failure is not unhandled", async () => {
    const controller = new AbortController();
    let fail!: (error: Error) => void;
    const pending = new Promise<number>((_resolve, reject) => (fail = reject));
    const raced = raceAbort(pending, controller.signal);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(raced).rejects.toBe(reason);
    fail(new Error('late failure'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects at once with the reason of a signal that has already fired, and without a signal is the promise itself', async () => {
    const reason = new Error('already');
    await expect(raceAbort(new Promise(() => {}), AbortSignal.abort(reason))).rejects.toBe(reason);
    const promise = Promise.resolve(1);
    expect(raceAbort(promise, undefined)).toBe(promise);
  });
});

describe('delay', () => {
  it('resolves after the time, and removes its listener', async () => {
    const controller = new AbortController();
    const started = performance.now();
    await delay(30, controller.signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(listeners(controller.signal)).toBe(0);
  });

  it("rejects with the signal's reason when it fires, at once when it had fired", async () => {
    const controller = new AbortController();
    const waiting = delay(60_000, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(delay(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    await expect(delay(60_000, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('does not keep the process alive', async () => {
    const code = "import { delay } from './src/abort.ts'; delay(60_000).then(() => console.log('fired'));";
    const result = await new Promise<{ error: Error | null; stdout: string; ms: number }>((resolve) => {
      const started = Date.now();
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 50_000 }, (error, stdout) => resolve({ error, stdout, ms: Date.now() - started }));
    });
    expect(result).toMatchObject({ error: null, stdout: '' });
    expect(result.ms).toBeLessThan(50_000);
  });
});

describe('anySignal', () => {
  it('fires with the reason of the first of its signals to fire, ignoring undefined ones', () => {
    const a = new AbortController();
    const b = new AbortController();
    const any = anySignal([a.signal, undefined, b.signal]);
    expect(any.aborted).toBe(false);
    b.abort(new Error('b'));
    expect(any.aborted).toBe(true);
    expect(abortReason(any).message).toBe('b');
  });

  it('fires with a TimeoutError after timeoutMs', async () => {
    const any = anySignal([undefined], 20);
    await new Promise((resolve) => any.addEventListener('abort', resolve, { once: true }));
    expect(isAbortError(any.reason)).toBe(true);
    expect(() => throwIfAborted(any)).toThrow(expect.objectContaining({ name: 'TimeoutError' }));
  });
});

describe('abortReason', () => {
  it('is the reason when it is an Error, else an AbortError', () => {
    const reason = new Error('mine');
    expect(abortReason(AbortSignal.abort(reason))).toBe(reason);
    expect(abortReason(AbortSignal.abort('text'))).toMatchObject({ name: 'AbortError' });
  });
});
