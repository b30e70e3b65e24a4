import { createServer, type Server } from 'node:http';
import type { LocalCluster } from './cluster.js';
import type { FaultRequest } from './faults.js';

/**
 * A plain-HTTP control endpoint on 127.0.0.1 so test files in other workers can
 * drive the shared cluster: `POST /faults` (FaultRequest JSON), `DELETE /faults`,
 * `POST /cut-watches`, `GET /metrics` (JSON snapshot), `DELETE /metrics`, `POST /restart`.
 */
export async function startControlServer(cluster: LocalCluster): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const reply = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as FaultRequest) : {};
          const key = `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
          switch (key) {
            case 'POST /faults':
              cluster.faults.apply(body);
              return reply(200, cluster.faults.describe());
            case 'DELETE /faults':
              cluster.faults.clear();
              return reply(200, cluster.faults.describe());
            case 'POST /cut-watches':
              return reply(200, { cut: cluster.faults.cutWatches() });
            case 'GET /metrics':
              return reply(200, cluster.metrics.snapshot());
            case 'DELETE /metrics':
              cluster.metrics.reset();
              return reply(200, {});
            case 'POST /restart':
              await cluster.restart();
              return reply(200, { restarted: true });
            default:
              return reply(404, { error: `no control endpoint ${key}` });
          }
        } catch (error) {
          reply(500, { error: String(error) });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
