import type { Duplex } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { StatusError } from '../../status.js';
import { rejectUpgrade, type ChannelServer } from './channels.js';
import { endWrite, pipeOutput, releaseAfterInput, resolveTarget, sendHello, type StreamTarget } from './exec.js';

/**
 * pods/attach over WebSocket: the streams of the container's main process. Stdin
 * only when the container has `stdin: true`; with `stdinOnce` the engine closes
 * the process's stdin when this client detaches or ends stdin.
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
  const container = ctx.docker.getContainer(target.id);
  server.upgrade(request.req, socket, head, (session) => {
    let stream: Duplex | undefined;
    let pendingEnd = false;
    // Clients write stdin as soon as the socket opens; hold it until the engine's stream is there.
    const pendingStdin: Buffer[] = [];
    let clientGone = false;
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
        sendHello(session, target);
        pipeOutput(engine, target, session, () => session.finish({ exitCode: 0 }));
      })
      .catch((error: Error) => session.finish({ error: error.message }));
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
      resize: (width, height) => void container.resize({ w: width, h: height }).catch(() => undefined),
      closed: () => {
        clientGone = true;
        if (stream) releaseAfterInput(stream);
      },
    };
  });
}
