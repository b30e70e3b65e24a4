import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { errors } from '../../status.js';
import { DockerFrames, type Frame } from './frames.js';
import { dockerLogs, isBefore, sinceTimeOf, tailSince, toNanos } from './log-since.js';
import { containerSpec, containerStatus, dockerId, flag, getPod, pickContainer } from './lookup.js';

function invalid(name: string, field: string, reason: string, message: string) {
  return errors.invalid('PodLogOptions', name, [{ reason, field, message }]);
}

function positiveInt(query: URLSearchParams, key: string, min: number, name: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw errors.badRequest(`invalid value for ${key}: ${raw}`);
  if (value < min) throw invalid(name, key, 'FieldValueInvalid', `Invalid value: ${value}: must be greater than ${min === 0 ? 'or equal to 0' : min - 1}`);
  return value;
}

/** Lines are written to the response once this many bytes were gathered... */
const BATCH_BYTES = 64 * 1024;
/** ...or this many ms after the first of them was read (the latency a follow adds). */
const GATHER_MS = 5;

const waitingMessages: Record<string, string> = {
  ErrImagePull: 'image can\'t be pulled',
  ImagePullBackOff: 'trying and failing to pull image',
};

/**
 * GET pods/{name}/log from Docker's logs (read with timestamps, so sinceTime and ordering
 * are exact). Lines are written to the response in batches, not one write (one TLS
 * record, one HTTP chunk) each, and Docker is read no faster than the client reads
 * (back-pressure), so a large log streams at Docker's pace with bounded memory.
 */
export async function servePodLog(ctx: ClusterContext, request: PodRequest, res: ServerResponse): Promise<void> {
  const { query, name } = request;
  const pod = getPod(ctx, request.namespace, name);
  const container = pickContainer(pod, query.get('container'));
  const sinceSeconds = positiveInt(query, 'sinceSeconds', 1, name);
  const sinceTimeRaw = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTimeRaw) throw invalid(name, '', 'FieldValueForbidden', 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  const sinceTime = sinceTimeRaw ? toNanos(sinceTimeRaw) : undefined;
  if (sinceTimeRaw && sinceTime === undefined) throw errors.badRequest(`invalid value for sinceTime: ${sinceTimeRaw}`);
  const tailLines = positiveInt(query, 'tailLines', 0, name);
  const limitBytes = positiveInt(query, 'limitBytes', 1, name);
  let stream = 'All';
  if (ctx.splitLogStreams() && query.get('stream')) {
    stream = query.get('stream')!;
    if (!['All', 'Stdout', 'Stderr'].includes(stream)) throw invalid(name, 'stream', 'FieldValueNotSupported', `Unsupported value: "${stream}": supported values: "All", "Stderr", "Stdout"`);
    if (stream !== 'All' && tailLines !== undefined) throw invalid(name, '', 'FieldValueForbidden', 'Forbidden: `tailLines` and specific `stream` are mutually exclusive for now');
  }
  const follow = flag(query, 'follow');
  const timestamps = flag(query, 'timestamps');
  const previous = flag(query, 'previous');
  if (!pod.spec.nodeName) {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
    return;
  }
  const status = containerStatus(pod, container);
  let id: string | undefined;
  if (previous) {
    id = dockerId(status?.lastState?.terminated?.containerID);
    if (!id) throw errors.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  } else {
    id = status?.state?.waiting ? dockerId(status?.lastState?.terminated?.containerID) : dockerId(status?.containerID);
    if (!id) {
      const reason = status?.state?.waiting?.reason;
      if (!reason) throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start - no logs yet`);
      throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waitingMessages[reason] ?? reason}`);
    }
  }
  // Docker's `since` takes seconds.nanoseconds and, like the kubelet, keeps entries at or after it.
  const since =
    sinceSeconds !== undefined
      ? (Date.now() / 1000 - sinceSeconds).toFixed(9)
      : sinceTime !== undefined
        ? `${sinceTime / 1_000_000_000n}.${String(sinceTime % 1_000_000_000n).padStart(9, '0')}`
        : undefined;
  const tty = Boolean(containerSpec(pod, container)?.tty);
  const sinceFilter = sinceTime === undefined ? undefined : sinceTimeOf(sinceTime);
  // Both streams, filtered here: a tail read from the end of the log (see tailSince).
  let fromTail = false;
  let source: Readable;
  try {
    const tail = !follow && !tty && sinceFilter !== undefined && tailLines === undefined ? await tailSince(ctx.docker, id, sinceFilter) : undefined;
    fromTail = tail !== undefined;
    source =
      tail ??
      (await dockerLogs(ctx.docker, id, {
        follow,
        stdout: stream !== 'Stderr',
        stderr: stream !== 'Stdout',
        timestamps: true,
        ...(since ? { since } : {}),
        ...(tailLines !== undefined ? { tail: tailLines } : {}),
      }));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) throw errors.badRequest(`container "${container}" in pod "${name}" is not available`);
    throw error;
  }
  if (res.destroyed) return void source.destroy(); // the client left while Docker was asked
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let written = 0;
  let full = false;
  // Lines read and not yet written to the response.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const frames = new DockerFrames(tty, (frame: Frame) => {
    if (full) return;
    if (fromTail && (frame.stream === 1 ? stream === 'Stderr' : stream === 'Stdout')) return;
    let line = frame.data;
    if (sinceFilter !== undefined && isBefore(line, sinceFilter)) return;
    if (!timestamps) {
      const space = line.indexOf(0x20);
      line = space >= 0 ? line.subarray(space + 1) : line;
    }
    if (limitBytes !== undefined) {
      line = line.subarray(0, limitBytes - written);
      full = written + line.length >= limitBytes;
    }
    if (line.length === 0) return;
    written += line.length;
    batch.push(line);
    batchBytes += line.length;
  });
  const flushBatch = (): boolean => {
    if (batchBytes === 0 || res.writableEnded || res.destroyed) return true;
    const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    return res.write(data);
  };
  const done = () => {
    source.destroy();
    if (!res.writableEnded) {
      flushBatch();
      res.end();
    }
  };
  // Docker sends each line as its own HTTP chunk: written as read, every line would cost
  // an HTTP chunk and a TLS record. Lines are gathered for GATHER_MS (or BATCH_BYTES).
  let gathering: NodeJS.Timeout | undefined;
  const write = (): void => {
    clearTimeout(gathering);
    gathering = undefined;
    if (!flushBatch()) source.pause();
  };
  const stop = (): void => {
    clearTimeout(gathering);
    done();
  };
  res.on('close', stop);
  res.on('drain', () => source.resume());
  source.on('data', (chunk: Buffer) => {
    frames.push(chunk);
    if (full) return stop();
    if (batchBytes >= BATCH_BYTES) write();
    else if (gathering === undefined && batchBytes > 0) gathering = setTimeout(write, GATHER_MS).unref();
  });
  source.on('end', () => {
    frames.flush();
    stop();
  });
  source.on('error', stop);
}
