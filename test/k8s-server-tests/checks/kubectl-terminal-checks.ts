import { expect, it } from 'vitest';
import { exerciseShell, TmuxSession, untilTerminalSize } from '../../support/tmux.js';
import { busyboxPod, randomName, type TestCluster } from '../node/helpers.js';

/**
 * `kubectl exec -it` and `kubectl run -it` on a real pseudo-terminal (tmux), against the cluster
 * `cluster()` returns: raw mode, the terminal's size and its changes (channel 4), Ctrl-C through
 * the container's line discipline, the exit code (see `exerciseShell`).
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
      expect(await exerciseShell(term, '30 100', { columns: 120, rows: 40 }, 5)).toEqual({ tty: '/dev/pts/0', size: '30 100', resized: '40 120', interrupted: '130' });
      expect(await term.exitCode()).toBe(5);
    });
  });

  it('run -it --rm: attached on a terminal of the window\'s size (kubectl\'s +1 resize undone in order), exit code, pod removed', async () => {
    const t = cluster();
    const name = randomName('run-tty');
    await onTerminal(['run', name, '-it', '--rm', '--restart=Never', '--image=busybox', '--', 'sh'], { columns: 90, rows: 25 }, async (term) => {
      await term.waitFor(/If you don't see a command prompt, try pressing enter\./);
      await term.typeLine(`${untilTerminalSize('25 90')}; echo TTY=$(tty) SIZE=$(stty size)`);
      const first = await term.waitFor(/TTY=(\S+) SIZE=(\d+ \d+)/);
      expect(first.slice(1)).toEqual(['/dev/pts/0', '25 90']);
      await term.typeLine('exit 4');
      expect(await term.exitCode()).toBe(4);
    });
    await t.waitFor('pods', name, (o) => o === undefined);
  });
}
