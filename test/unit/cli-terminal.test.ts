import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/cli/run-args.js';
import { openTerminalSession, type LocalStreams } from '../../src/cli/terminal-session.js';
import type { TerminalSize } from '../../src/types.js';

/** A local terminal: a stdin whose raw mode is recorded, an output with a size and resize events. */
function localTerminal(size = { columns: 120, rows: 40 }, stdinIsTty = true): { streams: LocalStreams; modes: boolean[]; output: EventEmitter & { isTTY: boolean; columns: number; rows: number } } {
  const modes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), {
    isTTY: stdinIsTty,
    setRawMode(mode: boolean) {
      modes.push(mode);
      return stdin as never;
    },
  });
  const output = Object.assign(new EventEmitter(), { isTTY: true, ...size });
  return { streams: { stdin, outputs: [output] }, modes, output };
}

describe('-i and -t', () => {
  it('-it, -i -t and --tty parse like docker run', () => {
    expect(parseRunArgs(['-it', 'busybox', '--', 'sh']).terminal).toEqual({ interactive: true, tty: true });
    expect(parseRunArgs(['-i', 'busybox', '--', 'sh']).terminal).toEqual({ interactive: true, tty: false });
    expect(parseRunArgs(['--tty', 'busybox', '--', 'sh']).terminal).toEqual({ interactive: false, tty: true });
    expect(parseRunArgs(['busybox', '--', 'sh']).terminal).toEqual({ interactive: false, tty: false });
  });

  it('a session gives the task the local size, follows resizes, enters raw mode only for -it on a terminal, and restores it once', async () => {
    const { streams, modes, output } = localTerminal();
    const session = openTerminalSession({ interactive: true, tty: true }, streams);
    expect(session.fields.tty).toEqual({ columns: 120, rows: 40 });
    // A stream of its own, fed by the local stdin: the driver may destroy it, never the local terminal's.
    expect(session.fields.stdin).not.toBe(streams.stdin);
    streams.stdin.push('typed');
    expect(String((session.fields.stdin as NodeJS.ReadableStream).read())).toBe('typed');
    const sizes = session.fields.terminalSizes![Symbol.asyncIterator]();
    Object.assign(output, { columns: 100, rows: 30 });
    output.emit('resize');
    Object.assign(output, { columns: 90, rows: 20 });
    output.emit('resize'); // not read yet: only the newest size counts
    expect(await sizes.next()).toEqual({ value: { columns: 90, rows: 20 }, done: false });
    const waiting = sizes.next();
    Object.assign(output, { columns: 132, rows: 43 });
    output.emit('resize');
    expect(await waiting).toEqual({ value: { columns: 132, rows: 43 }, done: false });

    session.enterRawMode();
    expect(session.raw).toBe(true);
    const pending = sizes.next();
    session.close();
    session.close();
    expect(modes).toEqual([true, false]);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(output.listenerCount('resize')).toBe(0);
  });

  it('without a local terminal: -t is 80x24 without resizes, and nothing enters raw mode', () => {
    const { streams, modes } = localTerminal(undefined, false);
    const session = openTerminalSession({ interactive: true, tty: true }, { stdin: streams.stdin, outputs: [] });
    expect(session.fields.tty).toEqual<TerminalSize>({ columns: 80, rows: 24 });
    expect(session.fields.terminalSizes).toBeUndefined();
    session.enterRawMode();
    session.close();
    expect(modes).toEqual([]);
  });

  it('-t alone keeps the local terminal cooked (Ctrl-C stops drivetrain) and gives no stdin', () => {
    const { streams, modes } = localTerminal();
    const session = openTerminalSession({ interactive: false, tty: true }, streams);
    expect(session.fields.stdin).toBeUndefined();
    session.enterRawMode();
    session.close();
    expect(modes).toEqual([]);
  });
});
