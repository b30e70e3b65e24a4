import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, UnsupportedCapabilityError } from '../../src/errors.js';
import type { TerminalSize } from '../../src/types.js';
import type { Harness } from './harness.js';
import { expectRejection, runToEnd, sh } from './helpers.js';

/**
 * Terminals (`tty`): a driver with `capabilities.tty` runs tasks and sandbox execs on a
 * terminal; one without refuses `tty` with `UnsupportedCapabilityError` naming the capability.
 */
export function ttyCases(h: Harness): void {
  describe('tty', () => {
    if (h.capabilities.tty) terminalCases(h);
    else refusalCases(h);
  });
}

/**
 * Waits (bounded, 10 s) until the terminal is `rows cols`, then prints `size ` and `stty size`:
 * an engine may apply the first size a moment after the start (Docker before API 1.42,
 * Kubernetes' resize channel), so the size is a state reached, not a value read once; a
 * driver that never applies it prints the size it has after the bound.
 */
function awaitSize(rows: number, columns: number): string {
  return `i=0; while [ "$(stty size 2>/dev/null)" != "${rows} ${columns}" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo "size $(stty size)"`;
}

/**
 * Says `resized` from a shell that then becomes `sleep 30`, so a 0x03 typed once `resized` is seen
 * finds the sleep's process already in the terminal's foreground group. After a plain
 * `echo resized; sleep 30` the Ctrl-C can come while the shell is about to fork the sleep: dash
 * holds the SIGINT until the sleep it forks next has ended, 30 s later (seen in half of 300 tries
 * that typed at once).
 */
const interruptibleSleep = `sh -c 'echo resized; exec sleep 30'`;

/** A live view of output: text so far, and a promise of a text appearing in it. */
class Watch extends Writable {
  private text = '';
  private readonly waiters: Array<{ text: string; resolve: () => void }> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    for (const waiter of this.waiters.filter((w) => this.text.includes(w.text))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    callback();
  }

  get output(): string {
    return this.text;
  }

  /** Resolves once `text` was written; rejects when `signal` aborts first. */
  until(text: string, signal: AbortSignal): Promise<void> {
    if (this.text.includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ text, resolve });
      signal.addEventListener('abort', () => reject(new Error(`"${text}" never came; output: ${JSON.stringify(this.text)}`)), { once: true });
    });
  }
}

/** Yields `value` once `ready` resolved, then ends. */
async function* after<T>(ready: Promise<void>, value: T): AsyncGenerator<T> {
  await ready;
  yield value;
}

function terminalCases(h: Harness): void {
  const sandboxTitle = (text: string): string => `${text}${h.capabilities.startSandbox ? '' : ' (not run: capabilities.startSandbox is false)'}`;

  it('a task on a terminal of 100x30: tty is a /dev/pts path, stty size is 30 100, stderr comes on stdout with CRLF, the last bytes without a newline arrive, exit 3', async () => {
    const task = h.task(h.taskId('tty-task'), sh(`tty; ${awaitSize(30, 100)}; echo to-stderr >&2; printf last; exit 3`), { tty: { columns: 100, rows: 30 } });
    const result = await runToEnd(h.driver(), task, h.signal());
    expect(result.status).toMatchObject({ done: true, exitCode: 3 });
    expect(result.streams).toBe('combined');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^\/dev\/pts\/\d+\r\nsize 30 100\r\nto-stderr\r\nlast$/);
  }, h.caseTimeoutMs);

  it('a task with tty: true is 24 80; a size from terminalSizes is seen; a 0x03 byte on stdin ends its sleep with 130', async () => {
    const signal = h.signal();
    const watch = new Watch();
    const resized: TerminalSize = { columns: 140, rows: 50 };
    const task = h.task(h.taskId('tty-resize'), sh(`${awaitSize(24, 80)}; ${awaitSize(50, 140)}; ${interruptibleSleep}; echo not-interrupted`), {
      tty: true,
      terminalSizes: after(watch.until('size 24 80', signal), resized),
      stdin: after(watch.until('resized', signal), Buffer.from([0x03])),
    });
    const container = await h.driver().runContainer(task, { signal });
    const [status] = await Promise.all([container.wait({ signal }), container.logs({ follow: true, stdout: watch, signal })]);
    expect(watch.output).toMatch(/^size 24 80\r\nsize 50 140\r\nresized\r\n/);
    expect(watch.output).not.toContain('not-interrupted');
    expect(status).toMatchObject({ done: true, exitCode: 130 });
  }, h.caseTimeoutMs);

  it.skipIf(!h.capabilities.startSandbox)(sandboxTitle('a sandbox exec on a terminal of 90x20: a /dev/pts path, 20 90, stderr on stdout, exit 3; stderr gets nothing'), async () => {
    const signal = h.signal();
    const sandbox = await h.driver().startSandbox!({ id: h.taskId('tty-sandbox'), image: h.image }, { signal });
    const stdout = new Watch();
    const stderr = new Watch();
    const status = await sandbox.exec(sh(`tty; ${awaitSize(20, 90)}; echo to-stderr >&2; exit 3`), { tty: { columns: 90, rows: 20 }, stdout, stderr, signal });
    expect(status).toMatchObject({ done: true, exitCode: 3 });
    expect(stderr.output).toBe('');
    expect(stdout.output).toMatch(/^\/dev\/pts\/\d+\r\nsize 20 90\r\nto-stderr\r\n$/);
  }, h.caseTimeoutMs);

  it.skipIf(!h.capabilities.startSandbox)(sandboxTitle('a sandbox exec on a terminal is resized by terminalSizes, and a 0x03 byte on stdin ends its sleep with 130'), async () => {
    const signal = h.signal();
    const sandbox = await h.driver().startSandbox!({ id: h.taskId('tty-sandbox-resize'), image: h.image }, { signal });
    const stdout = new Watch();
    const status = await sandbox.exec(sh(`${awaitSize(24, 80)}; ${awaitSize(33, 111)}; ${interruptibleSleep}; echo not-interrupted`), {
      tty: true,
      terminalSizes: after(stdout.until('size 24 80', signal), { columns: 111, rows: 33 }),
      stdin: after(stdout.until('resized', signal), Buffer.from([0x03])),
      stdout,
      signal,
    });
    expect(stdout.output).toMatch(/^size 24 80\r\nsize 33 111\r\nresized\r\n/);
    expect(status).toMatchObject({ done: true, exitCode: 130 });
  }, h.caseTimeoutMs);
}

function refusalCases(h: Harness): void {
  it('without capabilities.tty, a task with tty is refused with UnsupportedCapabilityError naming "tty", and nothing is created', async () => {
    const id = h.taskId('tty-refused');
    const error = await expectRejection(h.driver().runContainer(h.task(id, ['true'], { tty: true }), { signal: h.signal() }), UnsupportedCapabilityError);
    expect(error.capability).toBe('tty');
    expect(error.driver).toBe(h.driver().name);
    await expect(h.driver().getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, h.caseTimeoutMs);

  it.skipIf(!h.capabilities.startSandbox)(`without capabilities.tty, a sandbox exec with tty is refused with UnsupportedCapabilityError${h.capabilities.startSandbox ? '' : ' (not run: capabilities.startSandbox is false)'}`, async () => {
    const driver = h.driver();
    const sandbox = await driver.startSandbox!({ id: h.taskId('tty-refused-sandbox'), image: h.image }, { signal: h.signal() });
    const error = await expectRejection(sandbox.exec(['true'], { tty: { columns: 100, rows: 30 }, signal: h.signal() }), UnsupportedCapabilityError);
    expect(error.capability).toBe('tty');
  }, h.caseTimeoutMs);
}
