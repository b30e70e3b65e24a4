import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { kubeletStream, validatePodLogOptions } from '../../pod-log-options.js';
import { errors } from '../../status.js';
import type { Frame } from './frames.js';
import { serveCriLog, type CriReadOptions } from '../logs/cri-reader.js';
import { LogPump, type NextSource } from './log-pump.js';
import { dockerLogs, isBefore, sinceTimeOf, tailSince, toNanos } from './log-since.js';
import { containerSpec, containerStatus, dockerId, flag, getPod, pickContainer } from './lookup.js';

const waitingMessages: Record<string, string> = {
  ErrImagePull: 'image can\'t be pulled',
  ImagePullBackOff: 'trying and failing to pull image',
};

/**
 * GET pods/{name}/log: from the container's CRI log (see ContainerLogs), as a kubelet reads it;
 * for a container that was not captured, from Docker's log, read with timestamps (so sinceTime
 * and ordering are exact) and written to the response by a {@link LogPump}.
 */
export async function servePodLog(ctx: ClusterContext, request: PodRequest, res: ServerResponse): Promise<void> {
  const { query, name } = request;
  const pod = getPod(ctx, request.namespace, name);
  const container = pickContainer(pod, query.get('container'));
  const options = request.logOptions ?? validatePodLogOptions(query, name, ctx.profile.server);
  const { sinceSeconds, tailLines, limitBytes } = options;
  const sinceTimeRaw = options.sinceTime;
  const exactSinceTime = sinceTimeRaw ? toNanos(sinceTimeRaw) : undefined;
  if (sinceTimeRaw && exactSinceTime === undefined) throw errors.badRequest(`invalid value for sinceTime: ${sinceTimeRaw}`);
  // The API server passes sinceTime on to the kubelet in whole seconds (pkg/registry/core/pod/
  // strategy.go LogLocation: SinceTime.Format(time.RFC3339)): a read resumes at that second.
  const sinceTime = exactSinceTime === undefined ? undefined : (exactSinceTime / 1_000_000_000n) * 1_000_000_000n;
  const stream = kubeletStream(options, ctx.profile.kubelet);
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
  const captured = ctx.containerLogs.get(id);
  if (captured) {
    const sinceNanos = sinceSeconds !== undefined ? BigInt(Date.now() - sinceSeconds * 1000) * 1_000_000n : sinceTime;
    const criOptions: CriReadOptions = { stream, follow, timestamps, ...(sinceNanos !== undefined ? { since: sinceTimeOf(sinceNanos) } : {}), ...(tailLines !== undefined ? { tail: tailLines } : {}), ...(limitBytes !== undefined ? { limitBytes } : {}) };
    return serveCriLog(captured, criOptions, res);
  }
  // Not captured (found after the server process restarted): the engine's log, read with
  // timestamps. Docker's `since` takes seconds.nanoseconds and keeps entries at or after it.
  const since =
    sinceSeconds !== undefined
      ? (Date.now() / 1000 - sinceSeconds).toFixed(9)
      : sinceTime !== undefined
        ? `${sinceTime / 1_000_000_000n}.${String(sinceTime % 1_000_000_000n).padStart(9, '0')}`
        : undefined;
  const tty = Boolean(containerSpec(pod, container)?.tty);
  const sinceFilter = sinceTime === undefined ? undefined : sinceTimeOf(sinceTime);
  const read = (options: { follow: boolean; since?: string; tail?: number }) =>
    dockerLogs(ctx.docker, id, {
      follow: options.follow,
      stdout: stream !== 'Stderr',
      stderr: stream !== 'Stdout',
      timestamps: true,
      ...(options.since ? { since: options.since } : {}),
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
    });
  // Both streams, filtered here: a tail read from the end of the log (see tailSince).
  let fromTail = false;
  let source: Readable;
  try {
    const tail = !follow && !tty && sinceFilter !== undefined && tailLines === undefined ? await tailSince(ctx.docker, id, sinceFilter) : undefined;
    fromTail = tail !== undefined;
    source = tail ?? (await read({ follow, ...(since ? { since } : {}), ...(tailLines !== undefined ? { tail: tailLines } : {}) }));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) throw errors.badRequest(`container "${container}" in pod "${name}" is not available`);
    throw error;
  }
  const filter = (frame: Frame): Buffer | undefined => {
    if (fromTail && (frame.stream === 1 ? stream === 'Stderr' : stream === 'Stdout')) return undefined;
    if (sinceFilter !== undefined && isBefore(frame.data, sinceFilter)) return undefined;
    if (timestamps) return frame.data;
    const space = frame.data.indexOf(0x20);
    return space >= 0 ? frame.data.subarray(space + 1) : frame.data;
  };
  // Docker ends a follow when the container stops, also when its reader is still behind the
  // log's end (Docker 20.10: megabytes behind after a fast flood), so the end of its stream is
  // no proof that the whole log was sent. A kubelet follows until the container has stopped and
  // its log is read to the end (pkg/kubelet/kuberuntime/logs/logs.go ReadLogs): likewise, what
  // comes after the last record passed on is read again — followed while the container runs,
  // then once more, plainly, after it stopped; a plain read of a stopped container's log is whole.
  let stoppedRead = !follow;
  const next: NextSource = async (position) => {
    if (stoppedRead) return undefined;
    const running = (await ctx.docker.getContainer(id).inspect()).State.Running;
    stoppedRead = !running;
    const from = position ? dockerSince(position.stamp) : since;
    return read({ follow: running, ...(from ? { since: from } : {}), ...(position === undefined && tailLines !== undefined ? { tail: tailLines } : {}) });
  };
  new LogPump(res, tty, filter, limitBytes, next).start(source);
}

/** Docker's `since` (seconds.nanoseconds) of a record's RFC 3339 timestamp. */
function dockerSince(stamp: string): string | undefined {
  const nanos = toNanos(stamp);
  return nanos === undefined ? undefined : `${nanos / 1_000_000_000n}.${String(nanos % 1_000_000_000n).padStart(9, '0')}`;
}
