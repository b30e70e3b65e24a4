import type { IncomingMessage, RequestOptions } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { abortReason } from '../../src/abort.js';
import { EngineUnavailableError } from '../../src/errors.js';
import { nodeHttp, nodeHttps } from '../../src/kit/http-modules.js';
import { dropIdleConnections, keptAliveAgentFor } from './kept-alive-connections.js';

/** How long a {@link kubeGet} may stay silent. */
export interface KubeGetOptions {
  signal?: AbortSignal;
  /**
   * A connection that brings nothing for this long (ms), before or after the headers, is
   * destroyed: the request rejects with an `ETIMEDOUT` error, or the response stream fails.
   * @default no limit
   */
  idleTimeoutMs?: number;
  /**
   * The same, for the wait for the answer's headers only: for a caller that watches the
   * stream's silence itself (the pod watch). @default no limit
   */
  answerTimeoutMs?: number;
}

/**
 * A streaming GET against the API server with the kubeconfig's credentials and TLS
 * settings, on the cluster's kept-alive connections (`kept-alive-connections.ts`). Used for
 * pod logs, where client-node's Log helper cannot send the `stream` parameter nor report how
 * a follow ended, and for the pod watch. Resolves with the response once its headers
 * arrive; a non-2xx answer rejects with `{ statusCode, body }` (the Status JSON when given).
 * A half-open connection (packets dropped, nothing closed) would never end: the timeouts of
 * `options` bound it, and when one fires the pool's idle connections are closed with it
 * (they likely crossed the same path).
 *
 * A request that fails on a reused connection before its answer begins (the server closed
 * the idle connection as it was sent, or it had gone half-open while idle) is sent once
 * more, on a new connection: a GET can be replayed. net/http's transport does so for
 * client-go when a reused connection fails before any of the answer is read
 * (`transport.go`, `persistConn.shouldRetryRequest`); the replay after a silent one is ours.
 */
export async function kubeGet(kc: KubeConfig, path: string, query: Record<string, string>, options: KubeGetOptions = {}): Promise<IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new EngineUnavailableError('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const request: RequestOptions & { headers: Record<string, string> } = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(request);
  request.agent = keptAliveAgentFor(kc) ?? request.agent;
  options.signal?.throwIfAborted();
  try {
    return await getOnce(url, request, path, options);
  } catch (error) {
    if (!(error instanceof LostReusedConnection)) throw error;
    // Every idle connection went with the lost one: this attempt opens a new connection.
    return await getOnce(url, request, path, options).catch((again: unknown) => {
      throw again instanceof LostReusedConnection ? again.cause : again;
    });
  }
}

/** A request lost on a reused connection before any of its answer arrived; `cause` is what happened. */
class LostReusedConnection extends Error {
  constructor(override readonly cause: unknown) {
    super('a reused connection was lost before the answer began');
  }
}

function getOnce(url: URL, request: RequestOptions, path: string, options: KubeGetOptions): Promise<IncomingMessage> {
  const { signal, idleTimeoutMs, answerTimeoutMs } = options;
  const send = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = send(url, { ...request, signal }, (res) => {
      answered = true;
      // The caller watches the stream's silence from here on.
      if (idleTimeoutMs === undefined && answerTimeoutMs !== undefined) req.setTimeout(0);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolve(res);
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Plain-text error body: kept as is.
        }
        reject(Object.assign(new Error(`GET ${path} answered ${status}`), { statusCode: status, body, headers: res.headers }));
      });
    });
    req.on('error', (error) => {
      if (signal?.aborted) return reject(abortReason(signal));
      if (!answered && req.reusedSocket) {
        dropIdle(request);
        return reject(new LostReusedConnection(error));
      }
      reject(error);
    });
    const silenceMs = idleTimeoutMs ?? answerTimeoutMs;
    if (silenceMs !== undefined) {
      req.setTimeout(silenceMs, () => {
        dropIdle(request);
        req.destroy(Object.assign(new Error(`nothing from the API server for ${silenceMs} ms on GET ${path}: a half-open connection`), { code: 'ETIMEDOUT' }));
      });
    }
    req.end();
  });
}

/** Closes the idle connections of the request's pool (an agent that keeps none has none). */
function dropIdle(request: RequestOptions): void {
  if (typeof request.agent === 'object') dropIdleConnections(request.agent);
}
