import type * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';

/** One exec over a raw WebSocket: the negotiated protocol, every frame received and the close code. */
export interface RawSession {
  protocol: string;
  frames: Buffer[];
  closeCode: number;
}

/** Where a raw exec goes: the server, its credentials, and the pod. */
export interface ExecTarget {
  url: string;
  kc: k8s.KubeConfig;
  namespace: string;
  pod: string;
}

/**
 * Runs one exec over a raw WebSocket offering `protocols`, sends the `input` frames after the
 * open, and records every frame until the server closes. Rejects when the upgrade is refused
 * (the error names the status code).
 */
export async function rawExec(target: ExecTarget, protocols: string[], command: string[], input: Buffer[] = [], flags = 'stdout=true&stderr=true'): Promise<RawSession> {
  const query = `${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${flags}`;
  const url = `${target.url.replace('https', 'wss')}/api/v1/namespaces/${target.namespace}/pods/${target.pod}/exec?${query}`;
  const options: WebSocket.ClientOptions = {};
  await target.kc.applyToHTTPSOptions(options);
  const ws = new WebSocket(url, protocols, options);
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  for (const frame of input) ws.send(frame);
  const closeCode = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { protocol: ws.protocol, frames, closeCode };
}

/** The bytes a session received on one channel. */
export const channelText = (session: RawSession, n: number): string => Buffer.concat(session.frames.filter((f) => f[0] === n).map((f) => f.subarray(1))).toString();
