import { expect, it } from 'vitest';
import { TmuxSession } from '../../support/tmux.js';
import { busyboxPod, randomName, type TestCluster } from '../node/helpers.js';

/**
 * A shell loop that ends once the terminal has `size` ("rows columns"): a size travels to the
 * engine apart from the typed input, so the shell may read a line before the size has arrived.
 * A size that never comes (or a wrong one last) leaves the loop running and the check waiting
 * until its deadline. Before its first size a terminal is 0×0, which `stty size` reports as an
 * error: silenced.
 */
const untilSize = (size: string) => `until [ "$(stty size 2>/dev/null)" = "${size}" ]; do sleep 0.05; done`;

/**
 * `kubectl exec -it` and `kubectl run -it` on a real pseudo-terminal (tmux), against the cluster
 * `cluster()` returns: raw mode, the terminal's size and its changes (channel 4), Ctrl-C through
 * the container's line discipline, the exit code. Typed commands print markers through `$(…)`
 * or `$?`, so the echo of the typed line never matches what a check waits for.
 */
export function kubectlTerminalChecks(cluster: () => TestCluster): void {
  const onTerminal = async (args: string[], size: { columns: number; rows: number }, body: (term: TmuxSession) => Promise<void>) => {
    const { argv, env } = cluster().kubectlCommand(args);
    const term = await TmuxSession.start(argv, size, env);
    try {
      await body(term);
    } finally {
      await term.kill();
    }
  };

  it('exec -it: a terminal of the window\'s size, resized with it; Ctrl-C ends the foreground command; the exit code is kubectl\'s', async () => {
    const t = cluster();
    const name = randomName('tty');
    await t.apply(busyboxPod(name, 'sleep 600', { spec: { terminationGracePeriodSeconds: 0 } }));
    expect((await t.kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s'])).code).toBe(0);
    await onTerminal(['exec', '-it', name, '--', 'sh'], { columns: 100, rows: 30 }, async (term) => {
      await term.typeLine(`${untilSize('30 100')}; echo TTY=$(tty) SIZE=$(stty size)`);
      const first = await term.waitFor(/TTY=(\S+) SIZE=(\d+ \d+)/);
      expect(first.slice(1)).toEqual(['/dev/pts/0', '30 100']);
      await term.resize(120, 40);
      await term.typeLine(`${untilSize('40 120')}; echo RESIZED=$(stty size)`);
      expect((await term.waitFor(/RESIZED=(\d+ \d+)/))[1]).toBe('40 120');
      // The command says it runs before Ctrl-C is typed, so the SIGINT reaches it, not the shell.
      await term.typeLine('sh -c \'echo STARTED=$$; exec sleep 30\'');
      await term.waitFor(/STARTED=\d+/);
      await term.press('C-c');
      // An interactive shell drops the rest of a line whose command died of SIGINT: ask on a line of its own.
      await term.typeLine('echo RC=$?');
      expect((await term.waitFor(/RC=(\d+)/))[1]).toBe('130');
      await term.typeLine('exit 5');
      expect(await term.exitCode()).toBe(5);
    });
  });

  it('run -it --rm: attached on a terminal of the window\'s size (kubectl\'s +1 resize undone in order), exit code, pod removed', async () => {
    const t = cluster();
    const name = randomName('run-tty');
    await onTerminal(['run', name, '-it', '--rm', '--restart=Never', '--image=busybox', '--', 'sh'], { columns: 90, rows: 25 }, async (term) => {
      await term.waitFor(/If you don't see a command prompt, try pressing enter\./);
      await term.typeLine(`${untilSize('25 90')}; echo TTY=$(tty) SIZE=$(stty size)`);
      const first = await term.waitFor(/TTY=(\S+) SIZE=(\d+ \d+)/);
      expect(first.slice(1)).toEqual(['/dev/pts/0', '25 90']);
      await term.typeLine('exit 4');
      expect(await term.exitCode()).toBe(4);
    });
    await t.waitFor('pods', name, (o) => o === undefined);
  });
}
