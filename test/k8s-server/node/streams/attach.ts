import type { Duplex } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { StatusError } from '../../status.js';
import { rejectUpgrade, type ChannelServer } from './channels.js';
import { endWrite, pipeOutput, releaseAfterInput, resolveTarget, sendHello, type StreamTarget } from './exec.js';
import { ResizeQueue } from './resize.js';

/**
 * pods/attach over WebSocket: the streams of the container's main process. Stdin
 * only when the container has `stdin: true`; with `stdinOnce` the engine closes
 * the process's stdin when this client detaches or ends stdin.
 *
 * A container with `tty: true` runs on a Docker terminal (kubelet/spec.ts); its one output
 * stream reaches the client on stdout whatever the request's `tty` (when it asked for stdout),
 * as a CRI runtime's attach copies a terminal container's single stream to stdout (containerd cri `attachContainer`,
 * cio `AttachOptions`). Sizes from channel 4 go to Docker's container resize API, in order
 * (containerd cri `attachContainer` `handleResizing` → `task.Resize`; the Docker runtime:
 * pkg/kubelet/dockershim/docker_streaming.go `attachContainer` → `ResizeContainerTTY`). The
 * session ends with Success when the streams end (kubelet remotecommand attach.go `ServeAttach`).
 */
export function serveAttach(ctx: ClusterContext, server: ChannelServer, request: PodRequest, socket: Duplex, head: Buffer): void {
  let target: StreamTarget;
  try {
    target = resolveTarget(ctx, request);
  } catch (error) {
    if (error instanceof StatusError) return rejectUpgrade(socket, error);
    throw error;
  }
  const stdin = target.stdin && Boolean(target.spec?.stdin);
  const terminal = Boolean(target.spec?.tty);
  // Docker frames a container's output by the container's own Tty.
  const output: StreamTarget = { ...target, tty: terminal };
  const container = ctx.docker.getContainer(target.id);
  server.upgrade(request.req, socket, head, (session) => {
    let stream: Duplex | undefined;
    let pendingEnd = false;
    // Clients write stdin as soon as the socket opens; hold it until the engine's stream is there.
    const pendingStdin: Buffer[] = [];
    let clientGone = false;
    const sizes = new ResizeQueue((size) => container.resize({ w: size.width, h: size.height }));
    void container
      .attach({ stream: true, stdin, stdout: target.stdout, stderr: target.stderr, hijack: true })
      .then(async (attached) => {
        const engine = attached as unknown as Duplex;
        if (clientGone && pendingStdin.length === 0) return engine.destroy();
        // Docker lets a client attach to a stopped container and then waits for a start that
        // never comes. A kubelet refuses instead, and kubectl then falls back to the logs.
        const running = (await container.inspect()).State.Running === true;
        if (!running) {
          engine.destroy();
          session.finish({ error: `container ${String(target.spec?.name)} is not running` });
          return;
        }
        // Input that arrived during the inspect is still pending: flush it before later input
        // goes straight through, so nothing is reordered or written after the end.
        for (const chunk of pendingStdin.splice(0)) engine.write(chunk);
        if (clientGone) return releaseAfterInput(engine);
        if (pendingEnd) endWrite(engine);
        stream = engine;
        sizes.start();
        sendHello(session, target);
        pipeOutput(engine, output, session, () => {
          sizes.stop();
          session.finish({ exitCode: 0 });
        });
      })
      .catch((error: Error) => {
        sizes.stop();
        session.finish({ error: error.message });
      });
    return {
      stdin: (data) => {
        if (!stdin) return;
        if (stream) stream.write(data);
        else pendingStdin.push(data);
      },
      stdinEnd: () => {
        if (!stdin) return;
        if (stream) endWrite(stream);
        else pendingEnd = true;
      },
      resize: (size) => {
        if (terminal) sizes.push(size);
      },
      closed: () => {
        clientGone = true;
        sizes.stop();
        if (stream) releaseAfterInput(stream);
      },
    };
  });
}
