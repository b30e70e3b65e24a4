import type { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { delay, raceAbort } from '../../src/abort.js';
import { writeWithBackpressure } from '../../src/kit/write.js';
import { withRetry, type RetryPolicy } from '../../src/retry.js';
import { isTransient, normaliseError, retryAfterMs, statusCodeOf } from './api-errors.js';
import { kubeGet } from './http-stream.js';
import { TimestampedLines } from './timestamped-lines.js';
import { isStreamRefusal, PROBE_STREAM, SplitStreamsRefused, type LogStreamSupport, type ProbeRead } from './log-streams.js';
import type { LogResult } from '../../src/types.js';

/**
 * Pod logs. Without follow: one GET per stream. With follow: a live stream that ends
 * when the container has terminated and everything was delivered, reconnecting after a
 * dropped connection from the last timestamp seen (`timestamps=true` + `sinceTime`,
 * boundary lines de-duplicated). A connection silent for `idleTimeoutMs` counts as dropped
 * (half-open: packets lost, nothing closed).
 *
 * stdout and stderr are read apart with `stream=Stdout|Stderr` (KEP-3288) when the
 * server honours it; otherwise the combined log goes to stdout (see `LogStreamSupport`).
 */

/** The pod and container to read, and how to learn about the container's life. */
export interface LogSource {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  /** Resolves once the container has started, or `false` when it ended without ever starting. */
  waitForStart(signal?: AbortSignal): Promise<boolean>;
  /** Whether the container has terminated (or the pod is gone). */
  hasEnded(signal?: AbortSignal): Promise<boolean>;
  /** Retries of a plain read. @default withRetry's defaults */
  retry?: RetryPolicy;
  /**
   * A read that brings nothing for this long (ms) is taken for a half-open connection and
   * dropped: a follow resumes from its last timestamp, a plain read is retried. A follow of a
   * quiet container is thus re-opened at this interval. @default no limit
   */
  idleTimeoutMs?: number;
}

/** Destinations and mode of one read. */
export interface LogRead {
  stdout?: Writable;
  stderr?: Writable;
  follow: boolean;
  /** Whether the server reads the streams apart (learnt once per cluster and user in the process, by the first read). */
  support: LogStreamSupport;
  /**
   * The log is one stream whatever the server offers: a terminal's (a container with `tty`
   * writes everything to stdout, CRI logs it as such). @default false
   */
  combined?: boolean;
  signal?: AbortSignal;
}

const RECONNECT_DELAY_MS = 200;

/**
 * How many liveness intervals (`idleTimeoutMs`) a follow's reconnects may go without an
 * answer (connection refused or reset, no headers in time, 5xx) before the follow gives up
 * with `EngineUnavailableError`: an API server restart takes far less.
 */
const UNANSWERED_INTERVALS = 3;

/**
 * Reads the logs as asked and says how: the streams apart, or the combined log to `stdout`
 * (never also to `stderr`). Destinations are written with back-pressure and never ended.
 */
export async function readPodLogs(source: LogSource, read: LogRead): Promise<LogResult> {
  const { signal } = read;
  if (read.follow && !(await source.waitForStart(signal))) return { streams: read.combined !== true && (await read.support.decide(source, signal)) ? 'separate' : 'combined' };
  const stdoutLines = new TimestampedLines();
  let split = read.combined === true ? false : await read.support.verdictOrProbe(signal);
  if (typeof split !== 'boolean') {
    // Nothing learnt yet: this read is the probe. Where `stream` is dropped (1.31 and older)
    // its answer is the combined log; a 422 tells which, and nothing of it was written.
    const probe = split;
    try {
      await readStream(source, read, PROBE_STREAM, read.stdout, stdoutLines, signal, probe);
      return { streams: 'combined' };
    } catch (error) {
      if (!(error instanceof SplitStreamsRefused)) throw error;
      // Refused once a follow had delivered some (a server replaced mid-read): combined from there.
      split = read.support.known === true && stdoutLines.resumeFrom === undefined;
    } finally {
      probe.release();
    }
  }
  if (!split) {
    await readStream(source, read, undefined, read.stdout, stdoutLines, signal);
    return { streams: 'combined' };
  }
  // A stream nobody asked for is not requested: each one is an API request (or a follow).
  const parts: Array<[string, Writable | undefined, TimestampedLines]> = [
    ['Stdout', read.stdout, stdoutLines],
    ['Stderr', read.stderr, new TimestampedLines()],
  ];
  const wanted = parts.filter(([, destination]) => destination !== undefined);
  const stop = new AbortController();
  const partSignal = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const reads = wanted.map(([stream, destination, lines]) =>
    readStream(source, read, stream, destination, lines, partSignal).catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  const failures = (await Promise.allSettled(reads)).flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  if (failures.length === 0) return { streams: 'separate' };
  signal?.throwIfAborted();
  if (!failures.some((failure) => failure instanceof SplitStreamsRefused)) throw failures[0];
  // The server refused `stream` (no longer serves it): the combined log to stdout, a follow
  // resuming where stdout's got to, so nothing of stdout is lost or repeated.
  read.support.refused();
  await readStream(source, read, undefined, read.stdout, stdoutLines, signal);
  return { streams: 'combined' };
}

/** Reads one stream (or the combined log); a read that is the probe tells `probe` each answer it gets. */
function readStream(source: LogSource, read: LogRead, stream: string | undefined, destination: Writable | undefined, lines: TimestampedLines, signal?: AbortSignal, probe?: ProbeRead): Promise<void> {
  return read.follow ? followStream(source, stream, destination, lines, signal, probe) : readOnce(source, stream, destination, signal, probe);
}

/**
 * One plain read, retried like every API call (dropped connection, 429, 5xx). A retry
 * re-reads the log from its start: the bytes an earlier attempt already wrote are skipped,
 * so output is streamed as it arrives and never repeated (a container log only grows).
 */
async function readOnce(source: LogSource, stream: string | undefined, destination: Writable | undefined, signal?: AbortSignal, probe?: ProbeRead): Promise<void> {
  const query = { container: source.container, ...(stream === undefined ? {} : { stream }) };
  let written = 0;
  const attempt = async (): Promise<void> => {
    let response;
    try {
      response = await kubeGet(source.kc, logPath(source), query, { signal, idleTimeoutMs: source.idleTimeoutMs });
      probe?.answered();
    } catch (error) {
      probe?.answered(error);
      // 400: the container has not started yet (no output so far); 404: the pod is gone.
      const status = statusCodeOf(error);
      if (status === 400 || status === 404) return;
      if (isStreamRefusal(error, stream)) throw new SplitStreamsRefused(error);
      throw error;
    }
    let seen = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const end = seen + chunk.length;
      if (end > written) {
        await write(destination, written > seen ? chunk.subarray(written - seen) : chunk);
        written = end;
      }
      seen = end;
    }
  };
  try {
    await raceAbort(withRetry(attempt, { isTransient, retryAfterMs, signal, policy: source.retry }), signal);
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof SplitStreamsRefused) throw error;
    throw normaliseError(error, `read logs of pod "${source.pod}"`);
  }
}

/** Follows one stream (or the combined log) to the container's end; `lines` carries where it got to. */
async function followStream(source: LogSource, stream: string | undefined, destination: Writable | undefined, lines: TimestampedLines, signal?: AbortSignal, probe?: ProbeRead): Promise<void> {
  // Since when reconnects get no answer at all: an API server gone (or silent) for good ends the follow.
  let unansweredSince: number | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const query: Record<string, string> = { container: source.container, follow: 'true', timestamps: 'true', ...(stream === undefined ? {} : { stream }) };
    if (lines.resumeFrom !== undefined) query.sinceTime = lines.resumeFrom;
    lines.reconnect();
    let response;
    try {
      response = await kubeGet(source.kc, logPath(source), query, { signal, idleTimeoutMs: source.idleTimeoutMs });
      probe?.answered();
    } catch (error) {
      signal?.throwIfAborted();
      probe?.answered(error);
      const status = statusCodeOf(error);
      if (status === 404) return;
      if (status === 400) {
        // "waiting to start": not an error to surface; wait for the container, then resume.
        if (!(await source.waitForStart(signal))) return;
        if (await source.hasEnded(signal)) await delay(RECONNECT_DELAY_MS, signal);
        continue;
      }
      if (isStreamRefusal(error, stream)) throw new SplitStreamsRefused(error);
      unansweredSince ??= Date.now();
      const givenUp = source.idleTimeoutMs !== undefined && Date.now() - unansweredSince > UNANSWERED_INTERVALS * source.idleTimeoutMs;
      if (!isTransient(error) || givenUp) throw normaliseError(error, `follow logs of pod "${source.pod}"`);
      await delay(RECONNECT_DELAY_MS, signal);
      continue;
    }
    unansweredSince = undefined;
    let dropped = false;
    try {
      for await (const chunk of response) await write(destination, lines.push(chunk as Buffer));
    } catch (error) {
      signal?.throwIfAborted();
      dropped = true;
    }
    if (!dropped && (await source.hasEnded(signal))) {
      // One last plain read from the last timestamp: output the engine wrote while the
      // follow was closing (a final line without newline, typically) is not lost.
      await finalRead(source, stream, destination, lines, signal);
      await write(destination, lines.flush());
      return;
    }
    // The stream ended while the container still runs: the connection was dropped. Resume.
    await delay(RECONNECT_DELAY_MS, signal);
  }
}

async function finalRead(source: LogSource, stream: string | undefined, destination: Writable | undefined, lines: TimestampedLines, signal?: AbortSignal): Promise<void> {
  const query: Record<string, string> = { container: source.container, timestamps: 'true', ...(stream === undefined ? {} : { stream }) };
  if (lines.resumeFrom !== undefined) query.sinceTime = lines.resumeFrom;
  let response;
  try {
    response = await kubeGet(source.kc, logPath(source), query, { signal, idleTimeoutMs: source.idleTimeoutMs });
  } catch {
    return; // best effort: the follow already delivered everything it saw
  }
  lines.reconnect();
  for await (const chunk of response) await write(destination, lines.push(chunk as Buffer));
}

function logPath(source: { namespace: string; pod: string }): string {
  return `/api/v1/namespaces/${encodeURIComponent(source.namespace)}/pods/${encodeURIComponent(source.pod)}/log`;
}

/** Hands `chunk` on with back-pressure (kit); nothing to hand on, or no destination, is done at once. */
function write(destination: Writable | undefined, chunk: Buffer): Promise<void> {
  if (destination === undefined || chunk.length === 0) return Promise.resolve();
  return writeWithBackpressure(destination, chunk);
}
