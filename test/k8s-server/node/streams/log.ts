import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { errors } from '../../status.js';
import { containerSpec, containerStatus, dockerId, flag, getPod, pickContainer } from './lookup.js';
import { DockerFrames, type Frame } from './frames.js';

/** An RFC 3339 time in nanoseconds since the epoch, exact to the nanosecond (Date keeps only ms). */
export function toNanos(text: string): bigint | undefined {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

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

const waitingMessages: Record<string, string> = {
  ErrImagePull: 'image can\'t be pulled',
  ImagePullBackOff: 'trying and failing to pull image',
};

/** GET pods/{name}/log from Docker's logs (read with timestamps, so sinceTime and ordering are exact). */
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
  const dockerContainer = ctx.docker.getContainer(id);
  let source: NodeJS.ReadableStream;
  try {
    const output = await dockerContainer.logs({
      follow: follow as true,
      stdout: stream !== 'Stderr',
      stderr: stream !== 'Stdout',
      timestamps: true,
      ...(since ? { since: since as unknown as number } : {}),
      ...(tailLines !== undefined ? { tail: tailLines } : {}),
    });
    source = Buffer.isBuffer(output) ? Readable.from([output]) : (output as NodeJS.ReadableStream);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) throw errors.badRequest(`container "${container}" in pod "${name}" is not available`);
    throw error;
  }
  const tty = Boolean(containerSpec(pod, container)?.tty);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let written = 0;
  const done = () => {
    (source as Readable).destroy?.();
    if (!res.writableEnded) res.end();
  };
  res.on('close', done);
  const frames = new DockerFrames(tty, (frame: Frame) => {
    if (res.writableEnded || res.destroyed) return;
    let line = frame.data;
    if (!timestamps) {
      const space = line.indexOf(0x20);
      line = space >= 0 ? line.subarray(space + 1) : line;
    }
    if (sinceTime !== undefined) {
      const stamp = toNanos(frame.data.subarray(0, frame.data.indexOf(0x20)).toString());
      if (stamp !== undefined && stamp < sinceTime) return;
    }
    if (limitBytes !== undefined) {
      if (written >= limitBytes) return done();
      line = line.subarray(0, limitBytes - written);
    }
    written += line.length;
    res.write(line);
    if (limitBytes !== undefined && written >= limitBytes) done();
  });
  source.on('data', (chunk: Buffer) => frames.push(chunk));
  source.on('end', () => {
    frames.flush();
    done();
  });
  source.on('error', done);
}
