import { describe, expect, it } from 'vitest';
import { InvalidInputError, UnsupportedCapabilityError } from '../../src/errors.js';
import { DEFAULT_TERMINAL_SIZE, assertTerminalSupported, followTerminalSizes, validateTerminalOptions } from '../../src/terminal.js';
import type { TerminalSize } from '../../src/types.js';
import { validateTask } from '../../src/validate.js';

const base = { id: 'task-1', image: 'busybox', command: ['sh'] };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  throw new Error('expected an InvalidInputError');
}

describe('terminal options', () => {
  it('true is a terminal of 80×24; false and absent are none', () => {
    expect(DEFAULT_TERMINAL_SIZE).toEqual({ columns: 80, rows: 24 });
    expect(validateTask({ ...base, tty: true }).tty).toEqual({ columns: 80, rows: 24 });
    expect(validateTask({ ...base, tty: false }).tty).toBeUndefined();
    expect(validateTask(base).tty).toBeUndefined();
    expect(validateTask({ ...base, tty: { columns: 132, rows: 43 } }).tty).toEqual({ columns: 132, rows: 43 });
  });

  it.each([
    [{ columns: 0, rows: 24 }, 'task.tty.columns'],
    [{ columns: 80, rows: -1 }, 'task.tty.rows'],
    [{ columns: 80.5, rows: 24 }, 'task.tty.columns'],
    [{ columns: 80 }, 'task.tty.rows'],
    [{ columns: 65_536, rows: 24 }, 'task.tty.columns'],
    ['yes', 'task.tty'],
    [1, 'task.tty'],
  ])('tty %j is refused naming %s', (tty, field) => {
    expect(fieldOf(() => validateTask({ ...base, tty }))).toBe(field);
  });

  it('terminalSizes needs a terminal and an async iterable', () => {
    const sizes = (async function* () {})();
    expect(fieldOf(() => validateTask({ ...base, terminalSizes: sizes }))).toBe('task.terminalSizes');
    expect(fieldOf(() => validateTerminalOptions({ tty: true, terminalSizes: [{ columns: 1, rows: 1 }] as never }, 'options'))).toBe('options.terminalSizes');
    expect(validateTerminalOptions({ tty: true, terminalSizes: sizes }, 'options').terminalSizes).toBe(sizes);
  });

  it('a driver without the capability refuses a terminal, naming the capability', () => {
    expect(() => assertTerminalSupported('k8s', { tty: true }, { tty: { columns: 1, rows: 1 } })).not.toThrow();
    expect(() => assertTerminalSupported('k8s', { tty: false }, {})).not.toThrow();
    let error: unknown;
    try {
      assertTerminalSupported('k8s', { tty: false }, { tty: { columns: 1, rows: 1 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedCapabilityError);
    expect(error).toMatchObject({ capability: 'tty', driver: 'k8s', code: 'ERR_UNSUPPORTED_CAPABILITY' });
  });
});

describe('followTerminalSizes', () => {
  it('applies each valid size in order, skips invalid ones, and stops when the signal aborts', async () => {
    const applied: TerminalSize[] = [];
    const stop = new AbortController();
    let closed = false;
    async function* sizes(): AsyncGenerator<TerminalSize> {
      try {
        yield { columns: 100, rows: 30 };
        yield { columns: 0, rows: 30 };
        yield { columns: 120, rows: 40 };
        await new Promise(() => {}); // a queue that waits for the next SIGWINCH
      } finally {
        closed = true;
      }
    }
    const following = followTerminalSizes(sizes(), async (size) => {
      applied.push(size);
      if (applied.length === 2) stop.abort();
    }, stop.signal);
    await following;
    expect(applied).toEqual([{ columns: 100, rows: 30 }, { columns: 120, rows: 40 }]);
    expect(closed).toBe(true); // the iterator was closed (return()) when the resizing stopped
  });

  it('a failing resize or iterable never rejects', async () => {
    async function* failing(): AsyncGenerator<TerminalSize> {
      yield { columns: 10, rows: 10 };
      throw new Error('queue broke');
    }
    await expect(followTerminalSizes(failing(), async () => { throw new Error('gone'); }, new AbortController().signal)).resolves.toBeUndefined();
  });
});
