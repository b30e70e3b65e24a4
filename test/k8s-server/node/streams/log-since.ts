import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { DockerFrames } from './frames.js';

/** An RFC 3339 time in nanoseconds since the epoch, exact to the nanosecond (Date keeps only ms). */
export function toNanos(text: string): bigint | undefined {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** A `sinceTime`: exact, and as text that sorts like Docker's timestamps (see {@link stampKey}). */
export interface SinceTime {
  nanos: bigint;
  key: string;
}

export function sinceTimeOf(nanos: bigint): SinceTime {
  const seconds = new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return { nanos, key: `${seconds}.${String(nanos % 1_000_000_000n).padStart(9, '0')}` };
}

/**
 * A sortable text of a Docker timestamp ("2006-01-02T15:04:05.999999999Z", always UTC,
 * fraction trimmed of trailing zeros): the fraction padded to 9 digits. Undefined for
 * any other shape. Cheap enough for every line of a flood, unlike {@link toNanos}.
 */
function stampKey(text: string): string | undefined {
  if (text.length < 20 || text.length > 30 || text.charCodeAt(text.length - 1) !== 0x5a || text.charCodeAt(10) !== 0x54) return undefined;
  if (text.length === 20) return `${text.slice(0, 19)}.000000000`;
  if (text.charCodeAt(19) !== 0x2e) return undefined;
  return `${text.slice(0, 20)}${text.slice(20, -1).padEnd(9, '0')}`;
}

/** Whether a log line's leading timestamp is before `since`; a line without one is kept. */
export function isBefore(line: Buffer, since: SinceTime): boolean {
  const space = line.indexOf(0x20);
  const text = line.toString('latin1', 0, Math.max(0, space));
  const key = stampKey(text);
  if (key !== undefined) return key < since.key;
  const stamp = toNanos(text);
  return stamp !== undefined && stamp < since.nanos;
}

/** Options of Docker's `GET /containers/{id}/logs`. */
export interface DockerLogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
  /** Seconds.nanoseconds. */
  since?: string;
  tail?: number;
}

/**
 * Docker's log stream, also when not following: dockerode buffers a plain read whole
 * (and tries to parse it as JSON), which for a large log costs memory and time, and
 * delays the first byte until the last one was read.
 */
export function dockerLogs(docker: Dockerode, id: string, options: DockerLogOptions): Promise<Readable> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      { path: `/containers/${id}/logs?`, method: 'GET', isStream: true, statusCodes: { 200: true, 404: 'no such container', 500: 'server error' }, options: { ...options } },
      (error, stream) => (error ? reject(error) : resolve(stream as Readable)),
    );
  });
}

/** Lines the first tail read asks for; each next one asks for 8 times more. */
const FIRST_TAIL_LINES = 256;
/** A tail read that returns more than this is abandoned for Docker's own `since` scan. */
const TAIL_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A plain read from `sinceTime` found from the end of the log. Docker finds `since` by
 * decoding its json-file from the start (about 10 s for 100 MB of output on a busy
 * machine), though a client resuming a log (the driver's last read after a follow) asks
 * for a time near the end; reading the last lines instead is quick (Docker reads a tail
 * backwards). Reads ever longer tails (of both streams, so the count is of the file's
 * entries) until one reaches back past `since` or holds the whole log, and returns its raw
 * stream, to be filtered by time and stream like Docker's answer; `undefined` when the
 * tail grows past {@link TAIL_MAX_BYTES}: then ask Docker. Relies on the log being in time
 * order, as Docker writes it.
 */
export async function tailSince(docker: Dockerode, id: string, since: SinceTime): Promise<Readable | undefined> {
  for (let lines = FIRST_TAIL_LINES; ; lines *= 8) {
    const raw = await readCapped(await dockerLogs(docker, id, { follow: false, stdout: true, stderr: true, timestamps: true, tail: lines }), TAIL_MAX_BYTES);
    if (raw === undefined) return undefined;
    let count = 0;
    let first: Buffer | undefined;
    const frames = new DockerFrames(false, (frame) => {
      count += 1;
      first ??= frame.data;
    });
    frames.push(raw);
    if (count < lines || (first !== undefined && isBefore(first, since))) return Readable.from([raw]);
  }
}

/** The whole stream, or `undefined` (and the stream destroyed) once it exceeds `maxBytes`. */
async function readCapped(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) return undefined;
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, bytes);
}
