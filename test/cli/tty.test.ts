import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxSession } from '../support/tmux.js';
import { taskContainerName } from '../../drivers/docker/naming.js';
import { testNamespace } from '../setup/test-run.js';
import { ROOT } from './helpers.js';

/**
 * `drivetrain run -it` on a real pseudo-terminal: a detached tmux session runs the CLI in a pane
 * (a terminal of 100x30); its output is checked as the bytes the terminal received, keys go in
 * with `send-keys`, the window is resized as a user would. The terminal's settings are recorded
 * before and after the CLI, so a terminal left in raw mode shows.
 */

/** A deadline for the CLI's output and exit, long enough for a loaded machine (not a measure). */
const DEADLINE_MS = 90_000;

const terminals: TmuxSession[] = [];
afterEach(async () => {
  await Promise.all(terminals.splice(0).map((term) => term.kill()));
});
async function onTerminal(cliArgs: readonly string[]): Promise<TmuxSession> {
  const term = await TmuxSession.start([process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...cliArgs], { columns: 100, rows: 30 }, {}, ROOT);
  terminals.push(term);
  return term;
}

/** Waits (bounded) until the terminal is `rows cols`, then prints `size` and it (see the conformance case). */
const awaitSize = (rows: number, columns: number): string =>
  `i=0; while [ "$(stty size 2>/dev/null)" != "${rows} ${columns}" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo "size $(stty size)"`;

describe.each(['docker', 'native'])('drivetrain run -it --driver %s on a terminal', { timeout: 150_000 }, (driver) => {
  it('the task is on a /dev/pts terminal of the pane\'s size, resized with it, its exit code passes through, and the terminal is restored', async () => {
    const p = await onTerminal(['run', '--driver', driver, '-it', 'busybox', '--', 'sh', '-c', `tty; ${awaitSize(30, 100)}; ${awaitSize(40, 120)}; echo resized; exit 3`]);
    await p.waitForOutput(/\/dev\/pts\/\d+\r\nsize 30 100\r\n/, DEADLINE_MS);
    await p.resize(120, 40);
    await p.waitForOutput(/size 40 120\r\nresized/, DEADLINE_MS);
    expect(await p.exitCode(DEADLINE_MS)).toBe(3);
    expect(p.settingsRestored()).toBe(true);
  });

  it('Ctrl-C goes to the task through its terminal: sleep ends, the CLI exits 130, the terminal is restored', async () => {
    const p = await onTerminal(['run', '--driver', driver, '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.waitForOutput(/ready/, DEADLINE_MS);
    // The pane's terminal is raw while the task runs: Ctrl-C is a byte for the task, not a SIGINT for the CLI.
    const local = await p.terminalSettings();
    expect(local).toMatch(/-icanon/);
    expect(local).toMatch(/-isig/);
    await p.press('C-c');
    expect(await p.exitCode(DEADLINE_MS)).toBe(130);
    expect(p.settingsRestored()).toBe(true);
    expect(p.output()).toContain('^C');
    expect(p.output()).not.toContain('SIGINT received');
  });
});

describe('drivetrain run -it, stopped from outside', { timeout: 150_000 }, () => {
  it('the container removed under a raw terminal: the CLI reports it (125, or 137 when it saw the kill first), and the terminal is restored', async () => {
    const namespace = testNamespace('tty');
    const p = await onTerminal(['run', '--driver', 'docker', '--namespace', namespace, '--id', 'removed', '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.waitForOutput(/ready/, DEADLINE_MS);
    execFileSync('docker', ['rm', '-f', taskContainerName(namespace, 'removed')], { timeout: 60_000 });
    const code = await p.exitCode(DEADLINE_MS);
    // Removed (no exit code: 125, "Deleted"), or seen killed just before its removal (137).
    expect([125, 137]).toContain(code);
    if (code === 125) expect(p.output()).toContain('drivetrain: the task ended without an exit code (Deleted');
    expect(p.output()).not.toMatch(/\[ERR_/);
    expect(p.settingsRestored()).toBe(true);
  });

  it('SIGTERM while the terminal is raw: the task is stopped, the CLI exits 143 and the terminal is restored', async () => {
    const p = await onTerminal(['run', '--driver', 'native', '-it', 'busybox', '--', 'sh', '-c', 'echo ready; exec sleep 60']);
    await p.waitForOutput(/ready/, DEADLINE_MS);
    process.kill(await p.pid(), 'SIGTERM');
    expect(await p.exitCode(DEADLINE_MS)).toBe(143);
    expect(p.settingsRestored()).toBe(true);
  });
});
