import type { IncomingMessage, RequestOptions } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { abortReason } from '../../src/abort.js';
import { EngineUnavailableError } from '../../src/errors.js';
import { nodeHttp, nodeHttps } from '../../src/kit/http-modules.js';

/**
 * A streaming GET against the API server with the kubeconfig's credentials and TLS
 * settings. Used for pod logs, where client-node's Log helper cannot send the `stream`
 * parameter nor report how a follow ended. Resolves with the response once its headers
 * arrive; a non-2xx answer rejects with `{ statusCode, body }` (the Status JSON when given).
 * With `idleTimeoutMs`, a connection that brings nothing for that long (before or after the
 * headers) is destroyed with an `ETIMEDOUT` error, as a half-open connection (packets
 * dropped, nothing closed) would otherwise never end; the response stream fails with it.
 */
export async function kubeGet(kc: KubeConfig, path: string, query: Record<string, string>, signal?: AbortSignal, idleTimeoutMs?: number): Promise<IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new EngineUnavailableError('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const options: RequestOptions & { headers: Record<string, string> } = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(options);
  signal?.throwIfAborted();
  const send = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
  return new Promise((resolve, reject) => {
    const req = send(url, { ...options, signal }, (res) => {
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
    req.on('error', (error) => reject(signal?.aborted ? abortReason(signal) : error));
    if (idleTimeoutMs !== undefined) {
      req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`nothing from the API server for ${idleTimeoutMs} ms on GET ${path}: a half-open connection`), { code: 'ETIMEDOUT' })));
    }
    req.end();
  });
}
