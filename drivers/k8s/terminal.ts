import type { V1PodSpec } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { followTerminalSizes } from '../../src/terminal.js';
import type { TerminalSize } from '../../src/types.js';
import { TASK_CONTAINER } from './naming.js';

/**
 * Terminals over Kubernetes' exec and attach. The API has no size at creation: a terminal
 * gets its size only from the resize channel (4) of an exec or attach, once the process runs
 * (kubelet `HandleResizing`; containerd resizes the process's console), so the process would
 * start on a 0×0 terminal. The command therefore runs behind a short wait for the first size
 * (see {@link terminalCommand}).
 */

/** The resize channel of the remotecommand protocols. */
const RESIZE_CHANNEL = 4;
const OPEN = 1;

/**
 * Waits until the terminal has a size (`stty size` answers, and not `0 0`), at most ~10 s,
 * then runs the command in the shell's place. busybox's `stty size` fails on a 0×0 terminal,
 * coreutils' prints `0 0`: both mean "not yet". An image without `stty` runs the command at
 * once. `$0` is the script's name, the command is `"$@"`: nothing is joined into shell text.
 */
const AWAIT_SIZE_SCRIPT =
  'if command -v stty >/dev/null 2>&1; then i=0; ' +
  'while [ $i -lt 400 ]; do case "$(stty size 2>/dev/null)" in ""|"0 "*|*" 0") i=$((i+1)); sleep 0.025 2>/dev/null;; *) break;; esac; done; ' +
  'fi; exec "$@"';

/** Whether the task container of a pod (or Job template) runs on a terminal. */
export function onTerminal(spec: V1PodSpec | undefined): boolean {
  return spec?.containers.find((c) => c.name === TASK_CONTAINER)?.tty === true;
}

/** `command` behind the wait for the terminal's first size (needs `sh` in the image). */
export function terminalCommand(command: readonly string[]): string[] {
  return ['sh', '-c', AWAIT_SIZE_SCRIPT, 'drivetrain-tty', ...command];
}

/**
 * A size as client-go writes it on channel 4: `remotecommand.TerminalSize` through a
 * `json.Encoder` (`{"Width":W,"Height":H}` and a newline; tools/remotecommand v3.go
 * `handleResizes`), one binary frame (client-node negotiates only binary protocols).
 */
export function resizeFrame(size: TerminalSize): Buffer {
  return Buffer.concat([Buffer.from([RESIZE_CHANNEL]), Buffer.from(`${JSON.stringify({ Width: size.columns, Height: size.rows })}\n`)]);
}

/**
 * Gives the terminal of an exec or attach session its first size, then each size of `sizes`
 * until the socket closes. Never rejects.
 */
export function driveTerminal(socket: WebSocket, first: TerminalSize, sizes: AsyncIterable<TerminalSize> | undefined): void {
  const closed = new AbortController();
  if (socket.readyState !== OPEN) return;
  socket.once('close', () => closed.abort());
  const send = (size: TerminalSize): Promise<void> =>
    new Promise((resolve) => {
      if (socket.readyState !== OPEN) return resolve();
      socket.send(resizeFrame(size), () => resolve());
    });
  void send(first).then(() => followTerminalSizes(sizes, send, closed.signal));
}
