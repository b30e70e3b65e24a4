import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/poll.js';
import { taskContainerName } from '../../drivers/docker/naming.js';
import { testNamespace } from '../setup/test-run.js';
import { ROOT } from './helpers.js';

/**
 * `drivetrain run -it` on a real pseudo-terminal: a detached tmux session runs the CLI in a pane
 * (a terminal of 100x30), its output is piped to a file, keys go in with `send-keys`, the window is
 * resized with `resize-window`. The pane's shell records `stty -g` before and after the CLI and the
 * CLI's exit code, so a terminal left in raw mode shows.
 */

/** One tmux server of its own (a private socket), one session, one pane running `command`. */
class Pane {
  readonly dir = mkdtempSync(join(tmpdir(), 'drivetrain-tty-'));
  private readonly socket = `drivetrain-tty-${randomBytes(4).toString('hex')}`;

  constructor(cliArgs: readonly string[]) {
    const files = (name: string): string => quote(join(this.dir, name));
    // The CLI's pid is written by the shell that then becomes the CLI.
    const cli = ['sh', '-c', `echo $$ > ${files('pid')}; exec "$@"`, 'sh', process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...cliArgs].map(quote).join(' ');
    // Waits for `go` (the output pipe is in place), then records the terminal around the CLI.
    const script = [
      `cd ${quote(ROOT)}`,
      `while [ ! -e ${files('go')} ]; do sleep 0.02; done`,
      `stty -g > ${files('before')}`,
      cli,
      `echo $? > ${files('code.tmp')}`,
      `stty -g > ${files('after')}`,
      `mv ${files('code.tmp')} ${files('code')}`,
      'sleep 600',
    ].join('\n');
    writeFileSync(join(this.dir, 'pane.sh'), script);
    this.tmux('new-session', '-d', '-s', 'main', '-x', '100', '-y', '30', `sh ${quote(join(this.dir, 'pane.sh'))}`);
    this.tmux('pipe-pane', '-t', 'main', '-o', `cat >> ${files('out')}`);
    writeFileSync(join(this.dir, 'go'), '');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 10_000 });
  }

  output(): string {
    return existsSync(join(this.dir, 'out')) ? readFileSync(join(this.dir, 'out'), 'utf8') : '';
  }

  /** Resolves once `pattern` is in the pane's output; rejects past the deadline (a deadline, not a measure). */
  async until(pattern: RegExp, deadlineMs = 90_000): Promise<void> {
    // tmux offers no event for a pane's output: polled, with a generous deadline.
    await eventually(() => pattern.test(this.output()), deadlineMs, `${pattern} in the pane's output`).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; output: ${JSON.stringify(this.output())}`);
    });
  }

  /** The pid of the CLI process. */
  cliPid(): number {
    return Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
  }

  /** The CLI's exit code and the terminal's settings before and after it, once it has exited. */
  async exited(deadlineMs = 90_000): Promise<{ code: number; before: string; after: string }> {
    await eventually(() => existsSync(join(this.dir, 'code')), deadlineMs, 'the CLI to exit').catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; output: ${JSON.stringify(this.output())}`);
    });
    const read = (name: string): string => readFileSync(join(this.dir, name), 'utf8').trim();
    return { code: Number(read('code')), before: read('before'), after: read('after') };
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

const panes: Pane[] = [];
afterEach(() => {
  for (const pane of panes.splice(0)) pane.close();
});
function pane(args: readonly string[]): Pane {
  const made = new Pane(args);
  panes.push(made);
  return made;
}

/** Waits (bounded) until the terminal is `rows cols`, then prints `size` and it (see the conformance case). */
const awaitSize = (rows: number, columns: number): string =>
  `i=0; while [ "$(stty size 2>/dev/null)" != "${rows} ${columns}" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo "size $(stty size)"`;

describe.each(['docker', 'native'])('drivetrain run -it --driver %s on a terminal', { timeout: 150_000 }, (driver) => {
  it('the task is on a /dev/pts terminal of the pane\'s size, resized with it, its exit code passes through, and the terminal is restored', async () => {
    const p = pane(['run', '--driver', driver, '-it', 'busybox', '--', 'sh', '-c', `tty; ${awaitSize(30, 100)}; ${awaitSize(40, 120)}; echo resized; exit 3`]);
    await p.until(/\/dev\/pts\/\d+\r\nsize 30 100\r\n/);
    p.tmux('resize-window', '-t', 'main', '-x', '120', '-y', '40');
    await p.until(/size 40 120\r\nresized/);
    const { code, before, after } = await p.exited();
    expect(code).toBe(3);
    expect(after).toBe(before);
  });

  it('Ctrl-C goes to the task through its terminal: sleep ends, the CLI exits 130, the terminal is restored', async () => {
    const p = pane(['run', '--driver', driver, '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.until(/ready/);
    // The pane's terminal is raw while the task runs: Ctrl-C is a byte for the task, not a SIGINT for the CLI.
    const local = execFileSync('stty', ['-a', '-F', p.tmux('display', '-p', '-t', 'main', '#{pane_tty}').trim()], { encoding: 'utf8' });
    expect(local).toMatch(/-icanon/);
    expect(local).toMatch(/-isig/);
    p.tmux('send-keys', '-t', 'main', 'C-c');
    const { code, before, after } = await p.exited();
    expect(code).toBe(130);
    expect(after).toBe(before);
    expect(p.output()).toContain('^C');
    expect(p.output()).not.toContain('SIGINT received');
  });
});

describe('drivetrain run -it, stopped from outside', { timeout: 150_000 }, () => {
  it('the container removed under a raw terminal: the CLI reports it (125, or 137 when it saw the kill first), and the terminal is restored', async () => {
    const namespace = testNamespace('tty');
    const p = pane(['run', '--driver', 'docker', '--namespace', namespace, '--id', 'removed', '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.until(/ready/);
    execFileSync('docker', ['rm', '-f', taskContainerName(namespace, 'removed')], { timeout: 60_000 });
    const { code, before, after } = await p.exited();
    // Removed (no exit code: 125, "Deleted"), or seen killed just before its removal (137).
    expect([125, 137]).toContain(code);
    if (code === 125) expect(p.output()).toContain('drivetrain: the task ended without an exit code (Deleted');
    expect(p.output()).not.toMatch(/\[ERR_/);
    expect(after).toBe(before);
  });

  it('SIGTERM while the terminal is raw: the task is stopped, the CLI exits 143 and the terminal is restored', async () => {
    const p = pane(['run', '--driver', 'native', '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.until(/ready/);
    process.kill(p.cliPid(), 'SIGTERM');
    const { code, before, after } = await p.exited();
    expect(code).toBe(143);
    expect(after).toBe(before);
  });
});
