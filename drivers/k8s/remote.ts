import { PassThrough, Readable, Writable } from 'node:stream';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { abortReason, delay } from '../../src/abort.js';
import { relayTo } from '../../src/kit/write.js';
import { stdinToReadable } from '../../src/stdin.js';
import type { ContainerStatus, StdinSource, TerminalSize } from '../../src/types.js';
import { normaliseError } from './api-errors.js';
import { KubeWebSocket } from './ws-connect.js';
import { V5_PROTOCOL, type ExecProtocol, type ExecTarget } from './exec-protocol.js';
import { END_FRAME, frame, framedCommand } from './stdin-frames.js';
import { clientNode } from './sdk.js';
import { driveTerminal, terminalCommand } from './terminal.js';

/**
 * Exec and attach over client-node's WebSocket channels. The caller's output streams
 * are never ended (client-node ends the streams it is given, so it gets relays), the
 * input is sent in bounded pieces with back-pressure on the socket, and the exit code
 * comes only from the status channel: a stream that drops without one reports `null`.
 */

const STDIN_PIECE = 64 * 1024;
const SOCKET_HIGH_WATER = 1024 * 1024;
const OPEN = 1;

/** The exec status channel's V1Status as a drivetrain status (`undefined`: the stream dropped without one). */
export function execStatus(status: V1Status | undefined): ContainerStatus {
  if (status === undefined) {
    return { done: true, exitCode: null, reason: 'StreamLost', message: 'the exec stream closed before the command reported an exit status' };
  }
  if (status.status === 'Success') return { done: true, exitCode: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message === undefined ? Number.NaN : Number(cause.message);
  if (status.reason === 'NonZeroExitCode' && Number.isInteger(code)) return { done: true, exitCode: code, reason: 'Error' };
  return { done: true, exitCode: null, reason: status.reason ?? 'Error', ...(status.message === undefined ? {} : { message: status.message }) };
}

/** Where a remote command's input and output go. */
export interface RemoteStreams {
  stdin?: StdinSource;
  stdout?: Writable;
  stderr?: Writable;
  signal?: AbortSignal;
  /** Runs the command on a terminal of this size: its one stream goes to `stdout`, `stderr` gets nothing. */
  tty?: TerminalSize;
  /** Later sizes of the terminal (only with `tty`). */
  terminalSizes?: AsyncIterable<TerminalSize>;
}

/** How exec reaches the API server: the credentials, and the per-driver memory of the negotiated protocol. */
export interface ExecConnection {
  kc: KubeConfig;
  execProtocol: ExecProtocol;
  /** The driver's options; `livenessIntervalMs` paces the socket's pings. @default no pings */
  options?: { readonly livenessIntervalMs: number };
}

/**
 * Runs `command` (argv, no shell) in a pod's container; resolves with its status.
 *
 * With input, the end of the input must reach the process while the socket stays open for
 * the output and the exit status. v5 ends stdin with a CLOSE frame; below v5 the only end is
 * closing the socket, which loses both. There the input goes in frames to a wrapper that pipes
 * it into the command, whose stdin ends at the end frame (see {@link framedCommand}); the
 * socket stays open.
 *
 * On a terminal (`tty`) the input goes as it is, never framed and never ended: the terminal's
 * line discipline reads it (0x03 is Ctrl-C, 0x04 at a line's start the end of input), and an
 * end of the input source must not close the socket (below v5, the output and the status with
 * it). The server sends no stderr channel (the kubelet opens none on a TTY), and the command
 * waits for the terminal's first size (see terminal.ts).
 */
export async function execInPod(connection: ExecConnection, target: ExecTarget, command: readonly string[], streams: RemoteStreams): Promise<ContainerStatus> {
  const { kc } = connection;
  const signal = streams.signal;
  signal?.throwIfAborted();
  const terminal = streams.tty;
  const framed = terminal === undefined && streams.stdin !== undefined && (await connection.execProtocol.of(target, signal)) !== V5_PROTOCOL;
  const argv = terminal !== undefined ? terminalCommand(command) : framed ? framedCommand(command) : [...command];
  const stdout = relayTo(streams.stdout);
  const stderr = terminal === undefined ? relayTo(streams.stderr) : null;
  const stdin = streams.stdin === undefined ? null : new PassThrough();
  let reported: V1Status | undefined;
  let socket: WebSocket;
  try {
    socket = await new (clientNode().Exec)(kc, new KubeWebSocket(kc)).exec(target.namespace, target.pod, target.container, argv, stdout, stderr, stdin, terminal !== undefined, (status) => {
      reported = status;
    });
  } catch (error) {
    throw normaliseError(error, `exec in pod "${target.pod}"`);
  }
  if (signal?.aborted) {
    // Aborted while the socket was being opened: the abort listener below would never fire.
    socket.terminate();
    throw abortReason(signal);
  }
  if (terminal !== undefined) driveTerminal(socket, terminal, streams.terminalSizes);
  if (stdin !== null && streams.stdin !== undefined) void pumpInput(stdinToReadable(streams.stdin), stdin, socket, framed ? 'framed' : terminal !== undefined ? 'open' : 'end');
  const liveness = connection.options === undefined ? undefined : watchLiveness(socket, connection.options.livenessIntervalMs);
  return new Promise<ContainerStatus>((resolve, reject) => {
    const onAbort = (): void => {
      socket.terminate();
      reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      liveness?.stop();
      resolve(liveness?.lost === true ? { ...execStatus(undefined), message: liveness.message } : execStatus(reported));
    });
  });
}

/**
 * Pings a quiet exec socket: after `intervalMs` without a frame a ping goes out, and when
 * another interval passes without a frame or its pong, the connection is taken for
 * half-open (packets dropped, nothing closed) and terminated. A WebSocket peer answers a
 * ping with a pong (RFC 6455, section 5.5.2), so a live API server always answers.
 */
function watchLiveness(socket: WebSocket, intervalMs: number): { readonly lost: boolean; readonly message: string; stop(): void } {
  // Intervals in a row without a frame or a pong: at 1 a ping goes out, at 2 the socket is lost.
  let quiet = 0;
  let lost = false;
  const hear = (): void => {
    quiet = 0;
  };
  socket.on('message', hear);
  socket.on('pong', hear);
  const timer = setInterval(() => {
    if (socket.readyState !== OPEN) return;
    quiet += 1;
    if (quiet === 1) {
      socket.ping();
    } else {
      lost = true;
      socket.terminate();
    }
  }, intervalMs);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    message: `no answer from the API server for ${intervalMs} ms and none to a ping (livenessIntervalMs): the connection is half-open; the command's exit status and the rest of its output are unknown`,
    stop() {
      clearInterval(timer);
      socket.off('message', hear);
      socket.off('pong', hear);
    },
  };
}

/** A container's terminal, driven through an attach: its first size, later sizes. */
export interface AttachedTerminal {
  size: TerminalSize;
  sizes?: AsyncIterable<TerminalSize>;
}

/**
 * Attaches to a running container's stdin and streams `source` into it, then signals
 * EOF: client-node sends the v5 close frame `[255, 0]` when its input ends (older
 * protocols close the socket, which with `stdinOnce` also closes the process's stdin).
 * With `terminal` (a container with `tty: true`), the attach also gives the terminal its
 * size and later sizes, the input goes as it is and its end closes nothing: the attach stays
 * until the process ends, as `kubectl attach -it` does. Resolves when the attach ends (the
 * process ended, or `signal` aborted).
 */
export async function attachStdin(kc: KubeConfig, target: { namespace: string; pod: string; container: string }, source: StdinSource | undefined, signal?: AbortSignal, terminal?: AttachedTerminal): Promise<void> {
  const relay = new PassThrough();
  let socket: WebSocket;
  try {
    socket = await new (clientNode().Attach)(kc, new KubeWebSocket(kc)).attach(target.namespace, target.pod, target.container, null, null, relay, terminal !== undefined);
  } catch (error) {
    throw normaliseError(error, `attach to pod "${target.pod}"`);
  }
  if (signal?.aborted) {
    // Aborted while the socket was being opened: the listener below would never fire.
    socket.terminate();
    throw abortReason(signal);
  }
  const onAbort = (): void => socket.terminate();
  signal?.addEventListener('abort', onAbort, { once: true });
  const closed = new Promise<void>((resolve) => {
    if (socket.readyState !== OPEN) return resolve();
    socket.once('close', () => resolve());
  });
  try {
    if (terminal !== undefined) driveTerminal(socket, terminal.size, terminal.sizes);
    if (source !== undefined) await pumpInput(stdinToReadable(source), relay, socket, terminal === undefined ? 'end' : 'open');
    // With v5 the input ended with [255, 0] and the socket stays open: closing it now could
    // drop input the server has not yet handed to the process. The server closes it when the
    // process ends (or the pod goes); older protocols were closed by client-node already.
    await closed;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Copies `source` into `relay` in bounded pieces, pausing while the socket's send buffer is
 * full. `end`: the relay ends with the input (client-node then ends stdin); `framed`: each
 * piece goes as one frame and the end is the `0` frame; `open` (a terminal): the end of the
 * input sends nothing. With `framed` and `open` the relay, and so the socket, stays open for
 * the output and the status.
 */
async function pumpInput(source: Readable, relay: PassThrough, socket: WebSocket, mode: 'end' | 'framed' | 'open'): Promise<void> {
  const framed = mode === 'framed';
  try {
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      for (let offset = 0; offset < bytes.length; offset += STDIN_PIECE) {
        if (socket.readyState !== OPEN) return;
        const piece = bytes.subarray(offset, offset + STDIN_PIECE);
        relay.write(framed ? frame(piece) : piece);
        while (socket.readyState === OPEN && socket.bufferedAmount > SOCKET_HIGH_WATER) await delay(5);
      }
    }
  } catch {
    // A failing input source ends the input early; the process sees EOF.
  } finally {
    if (mode === 'end') relay.end();
    else if (framed && socket.readyState === OPEN) relay.write(END_FRAME);
  }
}
