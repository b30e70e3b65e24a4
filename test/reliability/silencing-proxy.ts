import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where the proxy listens or forwards: a unix socket path or a port on 127.0.0.1. */
export type Endpoint = { path: string } | { port: number };

/** One client connection and its upstream twin. */
interface Flow {
  client: Socket;
  upstream: Socket | undefined;
  silent: boolean;
}

/**
 * A byte-for-byte TCP/unix proxy that can make its connections half-open: a silenced flow
 * stays open on both sides and forwards nothing more, not even its end — what a NAT or
 * firewall that drops a flow's state does (packets vanish, nothing is reset). Tests put it
 * between a driver and its engine (dockerd's socket, the API server's port).
 */
export class SilencingProxy {
  private readonly flows = new Set<Flow>();
  /** Every client connection still open, flow or not. */
  private readonly clients = new Set<Socket>();
  /** New connections are accepted and never forwarded (the engine is silent for everyone). */
  private silenceNew = false;
  private acceptedCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: Endpoint,
    /** Where clients connect: the socket path, or `127.0.0.1:<port>`. */
    readonly address: Endpoint,
  ) {}

  /** Listens on `listenOn` (a socket path, or port 0 for any free port) and forwards to `target`. */
  static async start(target: Endpoint, listenOn: { path: string } | { port: 0 }): Promise<SilencingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('path' in listenOn) server.listen(listenOn.path, resolve);
      else server.listen(0, '127.0.0.1', resolve);
    });
    const bound = server.address();
    const address: Endpoint = 'path' in listenOn ? { path: listenOn.path } : { port: typeof bound === 'object' && bound !== null ? bound.port : 0 };
    const proxy = new SilencingProxy(server, target, address);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** Client connections accepted since the start. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Connections open right now (silenced or not). */
  get openFlows(): number {
    return this.flows.size;
  }

  /** Every open connection goes half-open; connections made afterwards work. Returns how many. */
  silenceOpen(): number {
    for (const flow of this.flows) flow.silent = true;
    return this.flows.size;
  }

  /** Every open connection and every later one is silent: the engine seems gone without a word. */
  silenceAll(): void {
    this.silenceNew = true;
    this.silenceOpen();
  }

  /** The network is back: every connection is cut (as a reset would) and new ones forward again. */
  reset(): void {
    this.silenceNew = false;
    for (const flow of this.flows) {
      flow.client.destroy();
      flow.upstream?.destroy();
    }
    this.flows.clear();
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    // Stop accepting first: a client whose connection is cut reconnects at once, and a
    // connection accepted after the cut would hold the close open.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const flow of this.flows) {
      flow.client.destroy();
      flow.upstream?.destroy();
    }
    this.flows.clear();
    // A silenced connection leaves the flows when its upstream closes, but its client stays.
    for (const client of this.clients) client.destroy();
    await closed;
  }

  private accept(client: Socket): void {
    this.acceptedCount += 1;
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    const flow: Flow = { client, upstream: undefined, silent: this.silenceNew };
    this.flows.add(flow);
    const forget = (): void => {
      this.flows.delete(flow);
    };
    client.on('error', () => {});
    if (flow.silent) {
      // Accepted, never answered: bytes are read and dropped, the end is never passed on.
      client.on('data', () => {});
      client.on('close', forget);
      return;
    }
    const upstream = 'path' in this.target ? connect(this.target.path) : connect(this.target.port, '127.0.0.1');
    flow.upstream = upstream;
    upstream.on('error', () => {});
    const relay = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!flow.silent) to.write(chunk);
      });
      from.on('end', () => {
        if (!flow.silent) to.end();
      });
      from.on('close', () => {
        if (!flow.silent) to.destroy();
        forget();
      });
    };
    relay(client, upstream);
    relay(upstream, client);
  }
}
