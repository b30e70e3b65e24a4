/**
 * Which image pull failures are worth waiting out. The kubelet reports a failed pull only as
 * text: waiting reason `ErrImagePull` with the CRI error as message (and a `Failed` event
 * with the same), e.g. `rpc error: code = NotFound desc = failed to pull and unpack image …:
 * not found` (containerd) or `rpc error: code = Unknown desc = Error response from daemon:
 * manifest for … not found: manifest unknown: manifest unknown` (cri-dockerd)
 * (pkg/kubelet/images/image_manager.go `EnsureImageExists`). So this is the one place where
 * the driver reads an engine's words, and it reads only the words registries and runtimes
 * use for their error codes: the distribution spec's `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`,
 * `UNAUTHORIZED`, `DENIED` ("manifest unknown", "repository name not known to registry",
 * "authentication required", "requested access to the resource is denied"), the gRPC
 * code `NotFound`, and HTTP 401/403.
 */

/** A failure the registry or network may get over: retried within the pull budget. Checked first. */
const TRANSIENT = [
  /no such host/i, // DNS, possibly not yet propagated
  /connection refused|connection reset|broken pipe|i\/o timeout|timeout|timed out|TLS handshake/i,
  /\b(429|500|502|503|504)\b|too many requests|toomanyrequests|internal server error|bad gateway|service unavailable|gateway timeout/i,
];

/** A failure the registry will answer the same way next time: the image (or the access to it) is not there. */
const PERMANENT = [
  /manifest unknown|name unknown|not known to registry|repository does not exist/i,
  /code = NotFound|\bnot found\b/i,
  /unauthorized|authentication required|no basic auth credentials|\b401\b/i,
  /\bdenied\b|insufficient_scope|\b403\b|forbidden/i,
];

/** True when a pull error message says the registry refused for good (missing, unauthorized, denied). */
export function isPermanentPullFailure(message: string | undefined): boolean {
  if (message === undefined || message === '') return false;
  if (TRANSIENT.some((pattern) => pattern.test(message))) return false;
  return PERMANENT.some((pattern) => pattern.test(message));
}
