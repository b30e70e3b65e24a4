import type { ComponentProfile } from './profile/profile.js';
import { errors, type StatusCause } from './status.js';

/** A pods/log stream selection (core/v1 PodLogOptions.stream). */
export type LogStream = 'All' | 'Stdout' | 'Stderr';

const STREAMS: readonly LogStream[] = ['All', 'Stdout', 'Stderr'];

/** The PodLogOptions of one request, after conversion from the query. */
export interface PodLogOptions {
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
  /**
   * What the API server forwards to the kubelet: set only where the server knows the field
   * and its gate is on (then defaulted to All); undefined otherwise (the kubelet sends both).
   */
  stream?: LogStream;
}

/** An integer query parameter; a value that is not one is a 400, as the parameter codec answers. */
function integer(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw errors.badRequest(`invalid value for ${key}: ${raw}`);
  return value;
}

/**
 * Converts and validates pods/log's query as the API server does, before it looks the pod
 * up (pkg/registry/core/pod/rest/log.go LogREST.Get): 422 Invalid with every cause, details
 * kind PodLogOptions (pkg/apis/core/validation ValidatePodLogOptions).
 *
 * `stream` (KEP-3288) by the server's version and PodLogsQuerySplitStreams gate:
 * - before 1.32 the field does not exist: the parameter is dropped like any unknown one;
 * - gate off: any `stream` (even empty) is `stream: Forbidden: may not be specified`;
 * - gate on: defaulted to All (pkg/apis/core/v1 SetDefaults_PodLogOptions), another value
 *   is FieldValueNotSupported, a specific stream with tailLines is Forbidden.
 */
export function validatePodLogOptions(query: URLSearchParams, name: string, server: ComponentProfile): PodLogOptions {
  const options: PodLogOptions = {};
  const tailLines = integer(query, 'tailLines');
  const limitBytes = integer(query, 'limitBytes');
  const sinceSeconds = integer(query, 'sinceSeconds');
  const sinceTime = query.get('sinceTime') || undefined;
  const causes: StatusCause[] = [];
  if (tailLines !== undefined && tailLines < 0) causes.push({ reason: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) causes.push({ reason: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    causes.push({ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    causes.push({ reason: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  }
  const fieldExists = server.minor >= 32;
  if (fieldExists && server.enabled('PodLogsQuerySplitStreams')) {
    const stream = (query.has('stream') ? query.get('stream')! : 'All') as LogStream;
    if (!STREAMS.includes(stream)) {
      causes.push({ reason: 'FieldValueNotSupported', field: 'stream', message: `Unsupported value: ${JSON.stringify(stream)}: supported values: "All", "Stderr", "Stdout"` });
    } else {
      if (stream !== 'All' && tailLines !== undefined) causes.push({ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: `tailLines` and specific `stream` are mutually exclusive for now' });
      options.stream = stream;
    }
  } else if (fieldExists && query.has('stream')) {
    causes.push({ reason: 'FieldValueForbidden', field: 'stream', message: 'Forbidden: may not be specified' });
  }
  if (causes.length > 0) throw errors.invalid('PodLogOptions', name, causes);
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) options.sinceSeconds = sinceSeconds;
  if (sinceTime !== undefined) options.sinceTime = sinceTime;
  return options;
}

/**
 * The stream the kubelet sends. A kubelet before 1.32 has no such field, and one without
 * the gate ignores it: both answer the combined log whatever the server forwarded (the
 * version skew KEP-3288 describes).
 */
export function kubeletStream(options: PodLogOptions, kubelet: ComponentProfile): LogStream {
  if (kubelet.minor < 32 || !kubelet.enabled('PodLogsQuerySplitStreams')) return 'All';
  return options.stream ?? 'All';
}
