import type { KubeConfig } from '@kubernetes/client-node';
import { statusCodeOf } from './api-errors.js';
import { clusterIdentity } from './kubeconfig.js';
import { kubeGet } from './http-stream.js';
import type { LogSource } from './logs.js';

/**
 * Whether the server reads stdout and stderr apart: the pods/log `stream` parameter
 * (KEP-3288, feature gate `PodLogsQuerySplitStreams`, beta and off by default from 1.32).
 *
 * One probe per cluster and user in the process (see {@link logStreamSupportFor}), a read with an invalid `stream` value, told apart by the answer
 * (`pkg/registry/core/pod/rest/log.go` `LogREST.Get` validates the options before it looks
 * the pod up; `pkg/apis/core/validation` `ValidatePodLogOptions`):
 * - 422 with cause `FieldValueNotSupported` on `stream`: the gate is on, streams are read apart;
 * - 422 with cause `FieldValueForbidden` (1.32+ with the gate off), or any other answer to the
 *   invalid value (1.31 and older drop the unknown parameter: 200, or 400/404 from the pod
 *   lookup): the combined log;
 * - 401, 403, 429, 5xx, no answer: nothing learnt, asked again at the next read.
 *
 * A 422 on a `stream` read at any later time (an API server replaced or reconfigured) turns
 * split streams off for the rest of the process's life, for every driver on that cluster. A server whose API server has the gate
 * and whose kubelet does not (version skew) passes the probe yet gives the combined log for
 * every `stream` value: `splitLogStreams: 'never'` is for such clusters.
 */
export class LogStreamSupport {
  private split: boolean | undefined;
  private probing: Promise<boolean | undefined> | undefined;

  constructor(mode: 'auto' | 'never') {
    if (mode === 'never') this.split = false;
  }

  /** Whether to read the streams apart; probes once (concurrent callers share the probe). */
  async decide(source: Pick<LogSource, 'kc' | 'namespace' | 'pod' | 'container'>, signal?: AbortSignal): Promise<boolean> {
    if (this.split !== undefined) return this.split;
    this.probing ??= probeSplitStreams(source, signal).finally(() => (this.probing = undefined));
    const answer = await this.probing;
    if (answer !== undefined && this.split === undefined) this.split = answer;
    return this.split ?? false;
  }

  /** A `stream` read was refused with 422: the combined log from now on. */
  refused(): void {
    this.split = false;
  }
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

/** The probe (see {@link LogStreamSupport}): `true`, `false`, or `undefined` when the answer says nothing. */
export async function probeSplitStreams(source: Pick<LogSource, 'kc' | 'namespace' | 'pod' | 'container'>, signal?: AbortSignal): Promise<boolean | undefined> {
  const path = `/api/v1/namespaces/${encodeURIComponent(source.namespace)}/pods/${encodeURIComponent(source.pod)}/log`;
  try {
    const response = await kubeGet(source.kc, path, { container: source.container, stream: 'DrivetrainProbe', limitBytes: '1' }, signal);
    response.destroy();
    return false;
  } catch (error) {
    signal?.throwIfAborted();
    const status = statusCodeOf(error);
    if (status === 422) return streamCauses(error).includes('FieldValueNotSupported');
    if (status === 400 || status === 404) return false;
    return undefined;
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
