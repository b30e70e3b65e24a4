import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, StatusError } from '../status.js';
import { decodeProtobufObject, isProtobuf } from './protobuf.js';

/** Response helpers: every body is JSON with a Content-Type (client-node needs it). */

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers a thrown error as a Status; anything that is not a StatusError is a 500. */
export function sendError(res: ServerResponse, error: unknown): void {
  const status = error instanceof StatusError ? error : errors.internal(error instanceof Error ? error.message : String(error));
  const headers: Record<string, string> = {};
  const retry = status.status.details?.retryAfterSeconds;
  if (retry !== undefined) headers['Retry-After'] = String(retry);
  sendJson(res, status.code, status.status, headers);
}

/** Reads the whole request body as text (bounded: 16 MiB). */
export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

/** Reads the whole request body (bounded: 16 MiB). */
async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024 * 1024) throw errors.badRequest('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; malformed → 400. */
export async function readJson(req: IncomingMessage): Promise<any> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (isProtobuf(type)) return decodeProtobufObject(await readBytes(req));
  // Any other binary encoding (CBOR, …): say so with 415.
  if (type !== '' && !type.includes('json') && !type.includes('yaml')) {
    throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json`, reason: 'UnsupportedMediaType', code: 415 });
  }
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw errors.badRequest(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${(error as Error).message})`);
  }
}
