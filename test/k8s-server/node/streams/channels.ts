import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StatusError } from '../../status.js';
import { ResizeDecoder, type TerminalSize } from './resize.js';

/**
 * What the kubelet's WebSocket streaming server accepts (pkg/kubelet/cri/streaming/remotecommand/
 * websocket.go createWebSocketStreams, now under staging/src/k8s.io/kubelet/pkg/cri/streaming).
 */
const KUBELET_PROTOCOLS = ['channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
const V5 = 'v5.channel.k8s.io';

/** The protocols a client offers in Sec-WebSocket-Protocol, in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim()).filter(Boolean);
}

/**
 * The subprotocol a real cluster settles on, or undefined when it refuses the upgrade.
 * With TranslateStreamCloseWebsocketRequests (KEP-4006) a request offering v5 is served by
 * the API server's stream translator, which speaks only v5 (pkg/registry/core/pod/rest/
 * subresources.go ExecREST.Connect, apiserver pkg/util/proxy/streamtranslator.go). Any other
 * request is proxied to the kubelet, whose WebSocket server takes the first offered protocol
 * it knows, in the client's order, and no protocol at all as the old binary one
 * (wsstream conn.go handshake).
 */
export function negotiateProtocol(offered: string[], translateV5: boolean): string | undefined {
  if (translateV5 && offered.includes(V5)) return V5;
  if (offered.length === 0) return '';
  return offered.find((p) => KUBELET_PROTOCOLS.includes(p));
}

/** Answers a failed upgrade on the raw socket with a Status JSON body, as the API server would. */
export function rejectUpgrade(socket: Duplex, error: StatusError): void {
  const body = JSON.stringify(error.status);
  const text = error.code === 404 ? 'Not Found' : error.code === 403 ? 'Forbidden' : 'Bad Request';
  socket.end(`HTTP/1.1 ${error.code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Callbacks a channel session delivers to the exec/attach side. */
export interface ChannelHandlers {
  stdin(data: Buffer): void;
  /** Stdin ended: v5 CLOSE frame for channel 0, or (older protocols) the socket closed. */
  stdinEnd(): void;
  /** A size read from channel 4, in the order it came (sides may be 0: the receiver skips those). */
  resize(size: TerminalSize): void;
  /** The client went away. */
  closed(): void;
}

/**
 * One remotecommand WebSocket session: channel 0 stdin, 1 stdout, 2 stderr,
 * 3 status, 4 resize; binary frames prefixed by the channel byte (base64
 * protocols: text frames, ASCII channel digit).
 */
export class ChannelSession {
  private stdinEnded = false;
  private finished = false;
  /** Channel 4 is a read channel on every protocol, TTY or not (kubelet websocket.go `createChannels`). */
  private readonly sizes: ResizeDecoder;

  constructor(private readonly ws: WebSocket, private readonly handlers: ChannelHandlers) {
    this.sizes = new ResizeDecoder((size) => handlers.resize(size));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary));
    ws.on('close', () => {
      this.endStdin();
      handlers.closed();
    });
    ws.on('error', () => ws.terminate());
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  private get base64(): boolean {
    return this.protocol.includes('base64');
  }

  private get v4plus(): boolean {
    return this.protocol.startsWith('v4.') || this.protocol.startsWith('v5.');
  }

  private endStdin(): void {
    if (this.stdinEnded) return;
    this.stdinEnded = true;
    this.handlers.stdinEnd();
  }

  private receive(raw: Buffer, isBinary: boolean): void {
    if (raw.length === 0) return;
    let channel: number;
    let payload: Buffer;
    if (this.base64 && !isBinary) {
      channel = raw[0]! - 0x30;
      payload = Buffer.from(raw.subarray(1).toString(), 'base64');
    } else {
      channel = raw[0]!;
      payload = raw.subarray(1);
    }
    if (channel === 255 && this.protocol === 'v5.channel.k8s.io') {
      if (payload[0] === 0) this.endStdin();
    } else if (channel === 0) {
      if (!this.stdinEnded && payload.length) this.handlers.stdin(payload);
    } else if (channel === 4) {
      this.sizes.push(payload);
    }
  }

  /** Sends data on a channel (1 stdout, 2 stderr, 3 status). */
  send(channel: number, data: Buffer | string = Buffer.alloc(0)): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const payload = Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (this.base64) this.ws.send(String(channel) + payload.toString('base64'), { binary: false });
    else this.ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true });
  }

  /** Sends the one status frame, then closes with 1000. `exitCode` undefined = an error `message`. */
  finish(result: { exitCode: number; command?: string[] } | { error: string }): void {
    if (this.finished) return;
    this.finished = true;
    if (this.v4plus) {
      let status: object;
      if ('error' in result) status = { metadata: {}, status: 'Failure', message: result.error, reason: 'InternalError', details: { causes: [{ message: result.error }] }, code: 500 };
      else if (result.exitCode === 0) status = { metadata: {}, status: 'Success' };
      else
        status = {
          metadata: {},
          status: 'Failure',
          message: `command terminated with non-zero exit code: error executing command [${(result.command ?? []).join(' ')}], exit code ${result.exitCode}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
        };
      this.send(3, JSON.stringify(status));
    } else if ('error' in result) {
      this.send(3, result.error);
    } else if (result.exitCode !== 0) {
      this.send(3, `command terminated with non-zero exit code: ${result.exitCode}`);
    }
    this.ws.close(1000);
    // A client that never answers the close must not keep the socket open.
    const timer = setTimeout(() => this.ws.terminate(), 5_000);
    timer.unref();
  }

  /** Ends the session at once (server shutdown). */
  terminate(): void {
    this.ws.terminate();
  }
}

/** Upgrades requests to channel sessions, with the subprotocols the reproduced version serves. */
export class ChannelServer {
  /** The protocol chosen for each request being upgraded (ws asks for it in handleProtocols). */
  private readonly chosen = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => this.chosen.get(req) || false });
  readonly sessions = new Set<ChannelSession>();

  /** `translateV5`: the API server's TranslateStreamCloseWebsocketRequests gate is on. */
  constructor(private readonly translateV5: () => boolean) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handlers: (session: ChannelSession) => ChannelHandlers): void {
    const protocol = negotiateProtocol(offeredProtocols(req), this.translateV5());
    if (protocol === undefined) {
      // The kubelet's handshake failure (golang.org/x/net/websocket newServerConn): a bare 403, no body.
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    this.chosen.set(req, protocol);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let live: ChannelHandlers | undefined;
      const session = new ChannelSession(ws, {
        stdin: (d) => live?.stdin(d),
        stdinEnd: () => live?.stdinEnd(),
        resize: (size) => live?.resize(size),
        closed: () => {
          this.sessions.delete(session);
          live?.closed();
        },
      });
      this.sessions.add(session);
      live = handlers(session);
    });
  }

  close(): void {
    for (const session of this.sessions) session.terminate();
    this.wss.close();
  }
}
