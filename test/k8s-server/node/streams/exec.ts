import type { Duplex } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { errors, StatusError } from '../../status.js';
import { ChannelServer, rejectUpgrade, type ChannelSession } from './channels.js';
import { DockerFrames } from './frames.js';
import { ResizeQueue } from './resize.js';
import { containerSpec, containerStatus, dockerId, flag, getPod, pickContainer } from './lookup.js';

/** What exec and attach resolve before upgrading: the Docker container and the stream flags. */
export interface StreamTarget {
  id: string;
  spec: any;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Checks the request like a kubelet: host assigned, a running container, at least one stream. */
export function resolveTarget(ctx: ClusterContext, request: PodRequest): StreamTarget {
  const pod = getPod(ctx, request.namespace, request.name);
  if (!pod.spec.nodeName) throw errors.badRequest(`pod ${request.name} does not have a host assigned`);
  const container = pickContainer(pod, request.query.get('container'));
  const stdin = flag(request.query, 'stdin');
  const stdout = flag(request.query, 'stdout');
  const tty = flag(request.query, 'tty');
  // On a TTY the stderr channel is not opened: the terminal is one stream, all of it on stdout
  // (kubelet pkg/cri/streaming/remotecommand/httpstream.go `NewOptions`: "Access to exec with
  // tty and stderr is not supported, bypassing stderr").
  const stderr = flag(request.query, 'stderr') && !tty;
  if (!stdin && !stdout && !flag(request.query, 'stderr')) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const status = containerStatus(pod, container);
  const id = dockerId(status?.containerID);
  if (!id || !status?.state?.running) throw errors.badRequest(`unable to upgrade connection: container not found ("${container}")`);
  return { id, spec: containerSpec(pod, container), stdin, stdout, stderr, tty };
}

/** Relays Docker output frames to channels 1 and 2. */
export function pipeOutput(stream: NodeJS.ReadableStream, target: StreamTarget, session: ChannelSession, onEnd: () => void): void {
  const frames = new DockerFrames(
    target.tty,
    (frame) => {
      if (frame.stream === 1 && target.stdout) session.send(1, frame.data);
      if (frame.stream === 2 && target.stderr) session.send(2, frame.data);
    },
    false,
  );
  stream.on('data', (chunk: Buffer) => frames.push(chunk));
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    frames.flush();
    onEnd();
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
}

/** The first frame: an empty one on the lowest writable channel. */
export function sendHello(session: ChannelSession, target: StreamTarget): void {
  session.send(target.stdout ? 1 : target.stderr ? 2 : 3);
}

/** Ends the write side of a hijacked connection: the engine delivers EOF to the process's stdin. */
export function endWrite(stream: Duplex): void {
  if (!stream.writableEnded) stream.end();
}

/**
 * The client went away (without v5, closing the socket is how it ends stdin): what it sent
 * still reaches the process, then EOF. A kubelet's wsstream connection closes its channels
 * when the socket's read fails, so the stdin pipe reads EOF after the last frame, and the CRI
 * streaming server copies stdin to that end before it closes the process's stdin
 * (apimachinery `util/httpstream/wsstream/conn.go` `Conn.Close`;
 * `pkg/kubelet/cri/streaming/remotecommand/websocket.go`). The engine's stream is not dropped
 * here: the engine may still be copying the input, and dropping the output side would end
 * that copy too. Its output, which nobody reads any more, is drained until the engine ends it.
 */
export function releaseAfterInput(stream: Duplex): void {
  endWrite(stream);
  stream.on('error', () => {});
  stream.resume();
}

/**
 * pods/exec over WebSocket: `docker exec` in the pod's container, with `Tty` when the request
 * has `tty=true` (the kubelet's Docker runtime did the same: pkg/kubelet/dockershim/exec.go
 * `NativeExecHandler.ExecInContainer`). Sizes from channel 4 go to Docker's exec resize API, in
 * order, from the moment the exec has started; without a TTY they are dropped, as a CRI runtime
 * resizes only a terminal. The exit code comes back on channel 3 (kubelet remotecommand
 * exec.go `ServeExec`), read from the exec's inspect once its output has ended.
 */
export function serveExec(ctx: ClusterContext, server: ChannelServer, request: PodRequest, socket: Duplex, head: Buffer): void {
  let target: StreamTarget;
  const command = request.query.getAll('command');
  try {
    target = resolveTarget(ctx, request);
    if (command.length === 0) throw errors.badRequest('you must specify at least one command for the container');
  } catch (error) {
    if (error instanceof StatusError) return rejectUpgrade(socket, error);
    throw error;
  }
  server.upgrade(request.req, socket, head, (session) => {
    let stream: Duplex | undefined;
    let pendingEnd = false;
    // Clients write stdin as soon as the socket opens; hold it until the engine's stream is there.
    const pendingStdin: Buffer[] = [];
    let clientGone = false;
    const exec = ctx.docker.getContainer(target.id).exec({ Cmd: command, AttachStdin: target.stdin, AttachStdout: target.stdout, AttachStderr: target.stderr, Tty: target.tty });
    const sizes = new ResizeQueue(async (size) => (await exec).resize({ w: size.width, h: size.height }));
    void exec
      .then(async (instance) => {
        const hijacked = (await instance.start({ hijack: true, stdin: target.stdin, Tty: target.tty })) as Duplex;
        stream = hijacked;
        sizes.start();
        for (const chunk of pendingStdin.splice(0)) hijacked.write(chunk);
        if (clientGone) return releaseAfterInput(hijacked);
        if (pendingEnd || !target.stdin) endWrite(hijacked);
        sendHello(session, target);
        pipeOutput(hijacked, target, session, async () => {
          sizes.stop();
          for (let attempt = 0; attempt < 200; attempt += 1) {
            const info = await instance.inspect().catch(() => undefined);
            if (!info) break;
            if (!info.Running && info.ExitCode !== null) return session.finish({ exitCode: info.ExitCode, command });
            await new Promise((resolve) => setTimeout(resolve, 5).unref());
          }
          session.finish({ error: 'the exit code of the command could not be read' });
        });
      })
      .catch((error: Error) => {
        sizes.stop();
        session.finish({ error: error.message });
      });
    return {
      stdin: (data) => (stream ? stream.write(data) : pendingStdin.push(data)),
      stdinEnd: () => (stream ? endWrite(stream) : (pendingEnd = true)),
      resize: (size) => {
        if (target.tty) sizes.push(size);
      },
      closed: () => {
        clientGone = true;
        sizes.stop();
        if (stream) releaseAfterInput(stream);
      },
    };
  });
}
