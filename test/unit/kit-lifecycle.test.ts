import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseTimeoutError, DriverClosedError } from '../../src/errors.js';
import { CHANNELS, type EventName } from '../../src/kit/events.js';
import { DriverLifecycle } from '../../src/kit/lifecycle.js';

const subscriptions: Array<() => void> = [];
afterEach(() => {
  for (const stop of subscriptions.splice(0)) stop();
});

/** Every event of `names` published while the test runs, for this namespace. */
function record(namespace: string, names: readonly EventName[]): Array<{ name: EventName; payload: Record<string, unknown> }> {
  const seen: Array<{ name: EventName; payload: Record<string, unknown> }> = [];
  for (const name of names) {
    const listener = (message: unknown): void => {
      const payload = message as Record<string, unknown>;
      if (payload.namespace === namespace) seen.push({ name, payload });
    };
    subscribe(CHANNELS[name], listener);
    subscriptions.push(() => unsubscribe(CHANNELS[name], listener));
  }
  return seen;
}

function lifecycle(namespace: string, reap: (signal: AbortSignal) => Promise<void>, closeTimeoutMs = 5_000): DriverLifecycle {
  return new DriverLifecycle({ driver: 'fake', namespace, closeTimeoutMs, reap });
}

/** Resolves when `signal` fires (a reap that only ends when told to). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

describe('DriverLifecycle: close', () => {
  it('concurrent closes share one sweep; a successful one is remembered; methods then reject with DriverClosedError', async () => {
    let reaps = 0;
    const life = lifecycle('c1', async () => {
      reaps += 1;
    });
    await Promise.all([life.close(), life.close(), life.close()]);
    await life.close();
    expect(reaps).toBe(1);
    expect(() => life.assertOpen()).toThrow(DriverClosedError);
    await expect(life.start({ taskId: 't', role: 'task', image: 'busybox' }, undefined, async () => 'x')).rejects.toBeInstanceOf(DriverClosedError);
  });

  it('a sweep that runs out of closeTimeoutMs rejects with CloseTimeoutError naming the namespace; a later close sweeps again', async () => {
    let reaps = 0;
    const life = lifecycle(
      'c2',
      (signal) => {
        reaps += 1;
        return reaps === 1 ? untilAborted(signal) : Promise.resolve();
      },
      50,
    );
    const error = await life.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloseTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_CLOSE_TIMEOUT', namespace: 'c2', timeoutMs: 50 });
    expect((error as Error).message).toContain('drivetrain cleanup --driver fake --namespace c2');
    await life.close();
    expect(reaps).toBe(2);
  });

  it("a caller's signal rejects that caller with its reason; an already-aborted one reaps nothing", async () => {
    let reaps = 0;
    const life = lifecycle('c3', async () => {
      reaps += 1;
    });
    const reason = new Error('no time');
    await expect(life.close({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(reaps).toBe(0);
    expect(life.closed).toBe(true);
    await life.close();
    expect(reaps).toBe(1);
  });

  it('a failed sweep is not remembered, and its error reaches every caller', async () => {
    let reaps = 0;
    const life = lifecycle('c4', async () => {
      reaps += 1;
      if (reaps === 1) throw new Error('engine gone');
    });
    const outcomes = await Promise.allSettled([life.close(), life.close()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    await life.close();
    expect(reaps).toBe(2);
  });

  it('close aborts the starts in flight and reaps after they settled', async () => {
    const order: string[] = [];
    const life = lifecycle('c5', async () => {
      order.push('reap');
    });
    const start = life.start({ taskId: 't', role: 'task', image: 'busybox' }, undefined, async ({ signal }) => {
      await untilAborted(signal).catch(() => order.push('start undone'));
      throw signal.reason;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await life.close();
    await expect(start).rejects.toBeInstanceOf(DriverClosedError);
    expect(order).toEqual(['start undone', 'reap']);
  });
});

describe('DriverLifecycle: starts and their events', () => {
  it('publishes start, waiting (each change once), started with adoption, exited once per handle, and removal', async () => {
    const seen = record('e1', ['taskStart', 'taskWaiting', 'taskStarted', 'taskExited', 'taskCleanedUp']);
    const life = lifecycle('e1', async () => {});
    const value = await life.start({ taskId: 'build', role: 'task', image: 'busybox' }, undefined, async (scope) => {
      scope.waiting('ContainerCreating');
      scope.waiting('ContainerCreating');
      scope.waiting('ImagePullBackOff', 'Back-off pulling image');
      scope.adopted();
      return 'container';
    });
    expect(value).toBe('container');
    const handle = {};
    life.exited(handle, 'build', { done: false, exitCode: null });
    life.exited(handle, 'build', { done: true, exitCode: 3, reason: 'Error' });
    life.exited(handle, 'build', { done: true, exitCode: 3, reason: 'Error' });
    await life.cleanup('build', 'task', async () => {});
    expect(seen.map((e) => e.name)).toEqual(['taskStart', 'taskWaiting', 'taskWaiting', 'taskStarted', 'taskExited', 'taskCleanedUp']);
    expect(seen[0]?.payload).toEqual({ driver: 'fake', namespace: 'e1', taskId: 'build', role: 'task', image: 'busybox' });
    expect(seen[2]?.payload).toMatchObject({ reason: 'ImagePullBackOff', message: 'Back-off pulling image' });
    expect(seen[3]?.payload).toMatchObject({ taskId: 'build', adopted: true, durationMs: expect.any(Number) });
    expect(seen[4]?.payload).toEqual({ driver: 'fake', namespace: 'e1', taskId: 'build', exitCode: 3, reason: 'Error' });
  });

  it('a failed start publishes task:error with the error summarised, and callers get the error itself', async () => {
    const seen = record('e2', ['taskError']);
    const life = lifecycle('e2', async () => {});
    const failure = Object.assign(new Error('no such image'), { code: 'ERR_IMAGE_PULL' });
    await expect(
      life.start({ taskId: 'x', role: 'sandbox', image: 'nope' }, undefined, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(seen[0]?.payload).toMatchObject({ taskId: 'x', role: 'sandbox', error: { name: 'Error', code: 'ERR_IMAGE_PULL', message: 'no such image' } });
  });

  it('logs each event to the logger at its level as (fields, message), and a throwing logger fails nothing', async () => {
    const lines: Array<[string, unknown, unknown]> = [];
    const logger = {
      debug: (fields: unknown, message: unknown) => lines.push(['debug', fields, message]),
      info: (fields: unknown, message: unknown) => lines.push(['info', fields, message]),
      warn: (fields: unknown, message: unknown) => lines.push(['warn', fields, message]),
      error: () => {
        throw new Error('broken logger');
      },
    };
    const life = new DriverLifecycle({ driver: 'fake', namespace: 'l1', closeTimeoutMs: 1000, logger, reap: async () => {} });
    await life.start({ taskId: 't', role: 'task', image: 'busybox' }, undefined, async () => 1);
    await life.close();
    expect(lines.map(([level, , message]) => `${level} ${String(message)}`)).toEqual([
      'debug task "t" starting (image busybox)',
      expect.stringMatching(/^info task "t" started in \d+ ms$/),
      'debug closing namespace "l1"',
      expect.stringMatching(/^info closed namespace "l1" in \d+ ms$/),
    ]);
    expect(lines[0]?.[1]).toEqual({ driver: 'fake', namespace: 'l1', taskId: 't', role: 'task', image: 'busybox' });

    const throwing = { debug: logger.error, info: logger.error, warn: logger.error, error: logger.error };
    const other = new DriverLifecycle({ driver: 'fake', namespace: 'l2', closeTimeoutMs: 1000, logger: throwing, reap: async () => {} });
    await expect(other.start({ taskId: 't', role: 'task', image: 'busybox' }, undefined, async () => 2)).resolves.toBe(2);
    await expect(other.close()).resolves.toBeUndefined();
  });
});
