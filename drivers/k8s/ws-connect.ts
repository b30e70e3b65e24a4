import type { KubeConfig } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { EngineUnavailableError } from '../../src/errors.js';

/** The channel protocols offered, newest first; v5 adds the stdin close frame `[255, 0]`. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * A WebSocket connector for client-node's Exec and Attach (their `WebSocketInterface`).
 * It behaves like client-node's own, except that a refused upgrade rejects with the
 * HTTP status and Status body (`{ statusCode, body }`), so errors are classified by code.
 */
export class KubeWebSocket {
  constructor(private readonly kc: KubeConfig) {}

  async connect(path: string, _text: ((text: string) => boolean) | null, binary: ((stream: number, buff: Buffer) => boolean) | null): Promise<WebSocket> {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new EngineUnavailableError('the kubeconfig has no current cluster');
    const url = cluster.server.replace(/^http/, 'ws').replace(/\/$/, '') + path;
    const options: WebSocket.ClientOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    // Loaded on first use: a driver that never execs or attaches does not load ws (~13 MB).
    const { default: Socket } = await import('ws');
    return new Promise((resolve, reject) => {
      const socket = new Socket(url, PROTOCOLS, options);
      socket.on('unexpected-response', (request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let body: unknown = Buffer.concat(chunks).toString('utf8');
          try {
            body = JSON.parse(body as string);
          } catch {
            // Not JSON: keep the text.
          }
          reject(Object.assign(new Error(`WebSocket upgrade of ${path.split('?')[0]} answered ${response.statusCode}`), { statusCode: response.statusCode, body }));
          request.destroy();
        });
      });
      socket.once('open', () => resolve(socket));
      socket.on('error', reject);
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary || data.length === 0 || binary === null) return;
        if (!binary(data.readUInt8(0), data.subarray(1))) socket.close(1000);
      });
    });
  }
}
