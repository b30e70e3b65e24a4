import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubeGet } from '../../drivers/k8s/http-stream.js';
import { holdKeptAliveConnections } from '../../drivers/k8s/kept-alive-connections.js';
import { ensureTls, type TlsMaterial } from '../k8s-server/tls.js';

/**
 * The driver's own GETs (pod logs, the pod watch) on kept-alive connections, against an
 * https server of the test's own on 127.0.0.1 that counts the connections it accepts:
 * - `/ok` answers `ok`;
 * - `/hold` sends its headers and a line, and never ends (a follow);
 * - `/drop-if-reused` cuts a connection that served a request before, unanswered (a server
 *   closing an idle connection as the request goes out); `/silent-if-reused` leaves it
 *   unanswered (a connection gone half-open while idle). Both answer `ok` on a new one;
 * - `/silent` never answers; `/late` sends a line, then another 0.7 s later and ends.
 */
let tls: TlsMaterial;
let tlsDir: string;
const servers: Server[] = [];
const releases: Array<() => void> = [];

beforeAll(() => {
  tlsDir = mkdtempSync(join(tmpdir(), 'drivetrain-kept-alive-'));
  tls = ensureTls(tlsDir);
});
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

interface TestServer {
  kc: KubeConfig;
  /** Connections accepted so far. */
  accepted: Socket[];
  /** Connections accepted and not closed yet. */
  open(): number;
}

async function startServer(): Promise<TestServer> {
  const served = new WeakSet<Socket>();
  const accepted: Socket[] = [];
  const closed = new WeakSet<Socket>();
  const server = createServer({ cert: tls.cert, key: tls.key }, (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const reused = served.has(socket);
    served.add(socket);
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    if (path === '/drop-if-reused' && reused) return void socket.destroy();
    if ((path === '/silent-if-reused' && reused) || path === '/silent') return;
    if (path === '/late') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('early\n');
      setTimeout(() => res.end('late\n'), 700);
      return;
    }
    if (path === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('held\n');
      return;
    }
    res.end('ok');
  });
  // Announced as 60 s: only the client's own limit or a release closes an idle connection here.
  server.keepAliveTimeout = 60_000;
  server.on('secureConnection', (socket: Socket) => {
    accepted.push(socket);
    socket.on('close', () => closed.add(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const { port } = server.address() as { port: number };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, skipTLSVerify: false, caData: Buffer.from(tls.caCert).toString('base64') }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, accepted, open: () => accepted.filter((socket) => !closed.has(socket)).length };
}

async function text(response: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) body += (chunk as Buffer).toString('utf8');
  return body;
}

/** Resolves when the server side of `socket` has closed (rejects after `timeoutMs`). */
async function closedWithin(socket: Socket, timeoutMs: number): Promise<void> {
  if (socket.closed) return;
  await once(socket, 'close', { signal: AbortSignal.timeout(timeoutMs) });
}

describe('k8s GETs on kept-alive connections', () => {
  it('ten reads one after the other share one connection, with the token on each', async () => {
    const server = await startServer();
    for (let i = 0; i < 10; i++) expect(await text(await kubeGet(server.kc, '/ok', { n: String(i) }))).toBe('ok');
    expect(server.accepted).toHaveLength(1);
  });

  it('a read beside 60 held streams (follows) answers at once: the pool has no limit', async () => {
    const server = await startServer();
    const held = await Promise.all(Array.from({ length: 60 }, () => kubeGet(server.kc, '/hold', {})));
    const read = await kubeGet(server.kc, '/ok', {}, { signal: AbortSignal.timeout(20_000) });
    expect(await text(read)).toBe('ok');
    expect(server.accepted).toHaveLength(61);
    for (const response of held) response.destroy();
  });

  it('an aborted read closes its connection', async () => {
    const server = await startServer();
    const abort = new AbortController();
    const held = await kubeGet(server.kc, '/hold', {}, { signal: abort.signal });
    const chunks = held[Symbol.asyncIterator]();
    await chunks.next();
    abort.abort();
    await expect(chunks.next()).rejects.toThrow();
    await closedWithin(server.accepted[0]!, 10_000);
    expect(server.open()).toBe(0);
  });

  it('the last holder to let go closes every connection of the pool, idle ones included', async () => {
    const server = await startServer();
    const [first, second] = [holdKeptAliveConnections(server.kc), holdKeptAliveConnections(server.kc)];
    releases.push(first, second);
    expect(await text(await kubeGet(server.kc, '/ok', {}))).toBe('ok');
    const idle = server.accepted[0]!;
    first();
    first();
    // Still held by the second: the connection stays for the next read.
    expect(await text(await kubeGet(server.kc, '/ok', {}))).toBe('ok');
    expect(server.accepted).toHaveLength(1);
    second();
    await closedWithin(idle, 10_000);
    // A later read makes a new pool.
    expect(await text(await kubeGet(server.kc, '/ok', {}))).toBe('ok');
    expect(server.accepted).toHaveLength(2);
  });

  it('a reused connection the server drops as the request goes out: sent again on a new one', async () => {
    const server = await startServer();
    expect(await text(await kubeGet(server.kc, '/ok', {}))).toBe('ok');
    expect(await text(await kubeGet(server.kc, '/drop-if-reused', {}))).toBe('ok');
    expect(server.accepted).toHaveLength(2);
  });

  it('a reused connection gone half-open: sent again on a new one after the idle timeout', async () => {
    const server = await startServer();
    expect(await text(await kubeGet(server.kc, '/ok', {}, { idleTimeoutMs: 300 }))).toBe('ok');
    expect(await text(await kubeGet(server.kc, '/silent-if-reused', {}, { idleTimeoutMs: 300 }))).toBe('ok');
    expect(server.accepted).toHaveLength(2);
  });

  it('one replay at most: a request that a new connection leaves unanswered fails with ETIMEDOUT', async () => {
    const server = await startServer();
    await expect(kubeGet(server.kc, '/silent', {}, { idleTimeoutMs: 300 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(server.accepted).toHaveLength(1);
    expect(await text(await kubeGet(server.kc, '/ok', {}, { idleTimeoutMs: 300 }))).toBe('ok');
    // On the idle connection, then once more on a new one.
    await expect(kubeGet(server.kc, '/silent', {}, { idleTimeoutMs: 300 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(server.accepted).toHaveLength(3);
  });

  it('the pod watch bounds the wait for an answer only: a silent reused connection is replaced, a quiet stream is not cut', async () => {
    const server = await startServer();
    expect(await text(await kubeGet(server.kc, '/ok', {}))).toBe('ok');
    expect(await text(await kubeGet(server.kc, '/silent-if-reused', {}, { answerTimeoutMs: 300 }))).toBe('ok');
    expect(await text(await kubeGet(server.kc, '/late', {}, { answerTimeoutMs: 300 }))).toBe('early\nlate\n');
    // With an idle timeout instead, the same stream is cut after its first line.
    await expect(kubeGet(server.kc, '/late', {}, { idleTimeoutMs: 300 }).then(text)).rejects.toThrow();
  });
});
