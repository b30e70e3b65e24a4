import type { KubeConfig } from '@kubernetes/client-node';
import { raceAbort } from '../../src/abort.js';
import { statusCodeOf } from './api-errors.js';
import { clusterIdentity } from './kubeconfig.js';
import { kubeGet } from './http-stream.js';
import type { LogSource } from './logs.js';

/** The invalid `stream` value a probe sends. */
export const PROBE_STREAM = 'DrivetrainProbe';

/**
 * Whether the server reads stdout and stderr apart: the pods/log `stream` parameter
 * (KEP-3288, feature gate `PodLogsQuerySplitStreams`, alpha and off by default from 1.32).
 *
 * Learnt once per cluster and user in the process (see {@link logStreamSupportFor}) from a
 * read with an invalid `stream` value, told apart by the answer
 * (`pkg/registry/core/pod/rest/log.go` `LogREST.Get` validates the options before it looks
 * the pod up; `pkg/apis/core/validation` `ValidatePodLogOptions`):
 * - 422 with cause `FieldValueNotSupported` on `stream`: the gate is on, streams are read apart;
 * - 422 with cause `FieldValueForbidden` (1.32+ with the gate off), or any other answer to the
 *   invalid value (1.31 and older drop the unknown parameter: 200, or 400/404 from the pod
 *   lookup): the combined log;
 * - 401, 403, 429, 5xx, no answer: nothing learnt, asked again at the next read.
 *
 * That read is the first log read itself ({@link LogStreamSupport.verdictOrProbe}): where the
 * parameter is dropped its 200 is the combined log, read in full, so 1.31 and older cost no
 * request of their own; on 1.32+ the 422 costs one. Reads made while it is unanswered wait
 * for its answer (not for its end). A follow of a container that never started probes alone.
 *
 * A 422 on a `stream` read at any later time (an API server replaced or reconfigured) turns
 * split streams off for the rest of the process's life, for every driver on that cluster. A server whose API server has the gate
 * and whose kubelet does not (version skew) passes the probe yet gives the combined log for
 * every `stream` value: `splitLogStreams: 'never'` is for such clusters.
 */
export class LogStreamSupport {
  private split: boolean | undefined;
  /** The probe under way: resolves once it has been answered (or is over without an answer). */
  private probing: Promise<void> | undefined;

  constructor(mode: 'auto' | 'never') {
    if (mode === 'never') this.split = false;
  }

  /** What has been learnt: `undefined` until a probe has been answered. */
  get known(): boolean | undefined {
    return this.split;
  }

  /**
   * What is learnt (after waiting for the answer of a probe under way), or, when nothing is,
   * a {@link ProbeRead}: the caller's read is then the probe, made with {@link PROBE_STREAM}.
   */
  async verdictOrProbe(signal?: AbortSignal): Promise<boolean | ProbeRead> {
    while (this.split === undefined && this.probing !== undefined) await raceAbort(this.probing, signal);
    if (this.split !== undefined) return this.split;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.probing = promise;
    let over = false;
    const release = (): void => {
      if (over) return;
      over = true;
      if (this.probing === promise) this.probing = undefined;
      resolve();
    };
    return {
      answered: (error?: unknown) => {
        const verdict = verdictOf(error);
        if (verdict === undefined || over) return;
        this.split ??= verdict;
        release();
      },
      release,
    };
  }

  /** Whether to read the streams apart; probes with a read of its own when nothing is learnt. */
  async decide(source: Pick<LogSource, 'kc' | 'namespace' | 'pod' | 'container' | 'idleTimeoutMs'>, signal?: AbortSignal): Promise<boolean> {
    const verdict = await this.verdictOrProbe(signal);
    if (typeof verdict === 'boolean') return verdict;
    try {
      verdict.answered(await probeAnswer(source, signal));
    } finally {
      verdict.release();
    }
    return this.split ?? false;
  }

  /** A `stream` read was refused with 422: the combined log from now on. */
  refused(): void {
    this.split = false;
  }
}

/** A read that is the probe: it tells each answer it gets, and that it is over. */
export interface ProbeRead {
  /** The read got an answer: nothing for a 200, else the error. The first answer that tells (see `LogStreamSupport`) is learnt. */
  answered(error?: unknown): void;
  /** The read is over; a probe that learnt nothing lets the next read probe. Idempotent. */
  release(): void;
}

/** What the probe's answer tells: `undefined` for none (a 200), else its error; `undefined` when it tells nothing. */
function verdictOf(error: unknown): boolean | undefined {
  if (error === undefined) return false;
  const status = statusCodeOf(error);
  if (status === 422) return streamCauses(error).includes('FieldValueNotSupported');
  if (status === 400 || status === 404) return false;
  return undefined;
}

/** What the process has learnt of each cluster (by API server and user), shared by its drivers in `auto` mode. */
const learnt = new Map<string, LogStreamSupport>();

/**
 * The split-streams support of the cluster `kc` reaches: one probe per cluster and user for
 * the whole process in `auto` mode (what the server serves does not depend on the driver),
 * so a process running many drivers probes once; `never` is the driver's own.
 */
export function logStreamSupportFor(kc: KubeConfig, mode: 'auto' | 'never'): LogStreamSupport {
  if (mode === 'never') return new LogStreamSupport('never');
  const key = clusterIdentity(kc);
  let support = learnt.get(key);
  if (support === undefined) learnt.set(key, (support = new LogStreamSupport('auto')));
  return support;
}

/** A read with `stream` that the server refused (422): the caller falls back to the combined log. */
export class SplitStreamsRefused extends Error {
  override name = 'SplitStreamsRefused';
  constructor(override readonly cause: unknown) {
    super('the API server refused the pods/log stream parameter');
  }
}

/** A probe of its own, reading one byte at most (see {@link LogStreamSupport}): `true`, `false`, or `undefined` when the answer says nothing. */
export async function probeSplitStreams(source: Pick<LogSource, 'kc' | 'namespace' | 'pod' | 'container' | 'idleTimeoutMs'>, signal?: AbortSignal): Promise<boolean | undefined> {
  return verdictOf(await probeAnswer(source, signal));
}

/** The probe's request: resolves with nothing when answered 200, else with the error. */
async function probeAnswer(source: Pick<LogSource, 'kc' | 'namespace' | 'pod' | 'container' | 'idleTimeoutMs'>, signal?: AbortSignal): Promise<unknown> {
  const path = `/api/v1/namespaces/${encodeURIComponent(source.namespace)}/pods/${encodeURIComponent(source.pod)}/log`;
  try {
    const response = await kubeGet(source.kc, path, { container: source.container, stream: PROBE_STREAM, limitBytes: '1' }, { signal, idleTimeoutMs: source.idleTimeoutMs });
    response.destroy();
    return undefined;
  } catch (error) {
    signal?.throwIfAborted();
    return error;
  }
}

/** The reasons of a 422's causes on the `stream` field. */
function streamCauses(error: unknown): string[] {
  const body = (error as { body?: unknown }).body;
  const causes = typeof body === 'object' && body !== null ? (body as { details?: { causes?: Array<{ field?: string; reason?: string }> } }).details?.causes : undefined;
  return (causes ?? []).filter((cause) => cause.field === 'stream').map((cause) => cause.reason ?? '');
}

/** True for a 422 answering a read that sent `stream`. */
export function isStreamRefusal(error: unknown, stream: string | undefined): boolean {
  return stream !== undefined && statusCodeOf(error) === 422;
}
