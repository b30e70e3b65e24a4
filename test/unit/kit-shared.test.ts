import { describe, expect, it } from 'vitest';
import { SharedOperations } from '../../src/kit/shared.js';

/** An operation that waits until released, recording the signal it got. */
function gate(): { operation: (signal: AbortSignal) => Promise<string>; release: (value: string) => void; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  let release: (value: string) => void = () => {};
  const operation = (signal: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      signals.push(signal);
      release = resolve;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  return { operation, release: (value) => release(value), signals };
}

describe('SharedOperations: one operation per key, each caller under its own signal', () => {
  it('callers of one key share one run and its outcome; other keys run apart', async () => {
    const shared = new SharedOperations<string>();
    const g = gate();
    const a = shared.run('k', undefined, g.operation);
    const b = shared.run('k', undefined, g.operation);
    const other = shared.run('other', undefined, async () => 'apart');
    await Promise.resolve();
    expect(g.signals).toHaveLength(1);
    g.release('done');
    expect(await Promise.all([a, b, other])).toEqual(['done', 'done', 'apart']);
    expect(shared.size).toBe(0);
  });

  it("a caller whose signal fires gets its own reason at once, and the run goes on for the others", async () => {
    const shared = new SharedOperations<string>();
    const g = gate();
    const first = new AbortController();
    const a = shared.run('k', first.signal, g.operation);
    const b = shared.run('k', new AbortController().signal, g.operation);
    const reason = new Error('caller a gave up');
    first.abort(reason);
    await expect(a).rejects.toBe(reason);
    await Promise.resolve();
    expect(g.signals[0]?.aborted).toBe(false);
    g.release('for b');
    await expect(b).resolves.toBe('for b');
  });

  it('the run is aborted only when every caller gave up; a caller arriving then starts afresh after it', async () => {
    const shared = new SharedOperations<string>();
    const g = gate();
    const one = new AbortController();
    const two = new AbortController();
    const a = shared.run('k', one.signal, g.operation);
    const b = shared.run('k', two.signal, g.operation);
    one.abort(new Error('one'));
    await Promise.resolve();
    expect(g.signals[0]?.aborted).toBe(false);
    const last = new Error('two');
    two.abort(last);
    await expect(a).rejects.toThrow('one');
    await expect(b).rejects.toBe(last);
    expect(g.signals[0]?.aborted).toBe(true);
    expect(g.signals[0]?.reason).toBe(last);
    const again = shared.run('k', undefined, async () => 'fresh');
    await expect(again).resolves.toBe('fresh');
  });

  it('an already-aborted signal rejects without running anything', async () => {
    const shared = new SharedOperations<string>();
    let ran = false;
    const reason = new Error('no time');
    await expect(
      shared.run('k', AbortSignal.abort(reason), async () => {
        ran = true;
        return 'x';
      }),
    ).rejects.toBe(reason);
    expect(ran).toBe(false);
  });

  it('the scope aborts every run; settled() waits for all of them', async () => {
    const scope = new AbortController();
    const shared = new SharedOperations<string>(scope.signal);
    const g = gate();
    const a = shared.run('k', undefined, g.operation);
    a.catch(() => {});
    await Promise.resolve();
    scope.abort(new Error('closed'));
    await shared.settled();
    await expect(a).rejects.toThrow('closed');
  });
});
