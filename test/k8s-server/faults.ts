/** Run-time fault injection for the local API server. */

import { errors, type StatusError } from './status.js';

/** The kinds of fault: transient ones a client should retry, and permanent ones it must not. */
export const FAULT_KINDS = ['429', '500', 'drop', '400', '403', '422'] as const;

/** What to inject into a share of requests. */
export interface FaultSpec {
  /** Share of matching requests that fail, 0..1. */
  rate: number;
  /**
   * `429` (with Retry-After), `500`, `drop` (the connection is destroyed without a response),
   * or a permanent refusal: `400` BadRequest, `403` Forbidden, `422` Invalid (one cause on `spec`).
   */
  kind: (typeof FAULT_KINDS)[number];
  /** Retry-After of a 429, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /** Only requests this returns true for are affected. @default all resource requests */
  match?: (method: string, path: string, query: URLSearchParams) => boolean;
}

/** The JSON body of `POST /debug/faults` (a separate process drives faults with it). */
export interface FaultRequest {
  rate?: number;
  kind?: FaultSpec['kind'];
  retryAfterSeconds?: number;
  /** A regular expression the request path must match. */
  pathPattern?: string;
  /** Methods affected (e.g. ["GET"]); default all. */
  methods?: string[];
  /** Added latency for every request, in ms. */
  delayMs?: number;
  /** Cuts every open watch now. */
  cutWatches?: boolean;
  /** Silences every open watch now (see `Faults.silenceWatches`). */
  silenceWatches?: boolean;
  /** true: the node is lost (see `Faults.loseNode`); false: it is back. */
  nodeLost?: boolean;
  /** The next N container creates fail (see `Faults.failContainerCreates`). */
  failContainerCreates?: number;
}

/** What the server's open watches offer to faults: cut them, or silence them. */
export interface OpenWatches {
  /** Drops every open watch connection; returns how many. */
  cut(): number;
  /** Stops every open watch from writing anything (events, bookmarks, its end); returns how many. */
  silence(): number;
  /** Compacts the store's history (see `Store.compact`), then drops every open watch; returns how many. */
  expire(): number;
}

/** Faults of the node's container runtime (read by the kubelet). */
export interface RuntimeFaults {
  /** The error the next container create fails with, if one is due (each is used once). */
  takeCreateFailure(): string | undefined;
}

/** Whether the node answers the control plane (read by the node part). */
export interface NodePartition {
  /** The node is cut off: its kubelet writes nothing and acts on nothing. */
  readonly nodeLost: boolean;
  /** Calls `listener` when a lost node comes back; returns the unsubscribe function. */
  onNodeRecovered(listener: () => void): () => void;
}

export class Faults implements NodePartition, RuntimeFaults {
  private spec: FaultSpec | undefined;
  private createFailures = 0;
  private lost = false;
  private readonly recoveredListeners = new Set<() => void>();
  /** Latency added to every resource request, in ms. @default 0 */
  delayMs = 0;
  /** How many requests got a fault since the last `clear()` (so tests can count retries). */
  injected = 0;

  constructor(private readonly watches: OpenWatches) {}

  set(spec: FaultSpec): void {
    if (!(spec.rate >= 0 && spec.rate <= 1)) throw new TypeError('faults.rate must be between 0 and 1');
    if (!FAULT_KINDS.includes(spec.kind)) throw new TypeError(`faults.kind must be one of ${FAULT_KINDS.join(', ')}`);
    this.spec = { ...spec };
  }

  /** Clears every fault; a lost node comes back. */
  clear(): void {
    this.spec = undefined;
    this.delayMs = 0;
    this.injected = 0;
    this.createFailures = 0;
    this.recoverNode();
  }

  /** Drops every open watch connection; returns how many were cut. */
  cutWatches(): number {
    return this.watches.cut();
  }

  /**
   * Makes every open watch a half-open connection: it stays open but delivers nothing
   * more, not even its end at `timeoutSeconds`, as when a NAT or proxy silently drops a
   * flow. Watches opened afterwards work. Returns how many were silenced.
   */
  silenceWatches(): number {
    return this.watches.silence();
  }

  /**
   * Compacts the history and cuts every open watch: a client resuming from a
   * resourceVersion older than the compaction gets 410 Expired and must re-list, as after
   * etcd compaction on a real cluster. Returns how many watches were cut.
   */
  expireWatches(): number {
    return this.watches.expire();
  }

  /**
   * The next `count` container creates fail, as a busy containerd fails them now and then
   * (`failed to reserve container name …: name … is reserved for …`): the kubelet reports
   * `CreateContainerError` and tries again after its back-off (10 s, doubling).
   */
  failContainerCreates(count: number): void {
    this.createFailures = count;
  }

  takeCreateFailure(): string | undefined {
    if (this.createFailures <= 0) return undefined;
    this.createFailures -= 1;
    this.injected++;
    return 'failed to reserve container name "task": name "task" is reserved for "injected-fault"';
  }

  get nodeLost(): boolean {
    return this.lost;
  }

  /**
   * Cuts the node off, as a node that stops answering (crash, network partition): its
   * kubelet writes no status and acts on nothing (new pods, deletions), while its
   * containers keep running. The pods it runs stay as last reported; a pod deleted
   * meanwhile stays Terminating. There is no node lifecycle controller here: a test
   * deletes the pod itself where the taint eviction controller would.
   */
  loseNode(): void {
    this.lost = true;
  }

  /** A lost node answers again: its kubelet reports and catches up with what it missed. */
  recoverNode(): void {
    if (!this.lost) return;
    this.lost = false;
    for (const listener of [...this.recoveredListeners]) listener();
  }

  onNodeRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  /** The fault to inject into this request, if any. */
  pick(method: string, path: string, query: URLSearchParams = new URLSearchParams()): FaultSpec | undefined {
    const spec = this.spec;
    if (!spec) return undefined;
    if (spec.match && !spec.match(method, path, query)) return undefined;
    if (Math.random() >= spec.rate) return undefined;
    this.injected++;
    return spec;
  }

  /** Applies a `POST /debug/faults` body. */
  apply(request: FaultRequest): void {
    if (request.delayMs !== undefined) this.delayMs = Number(request.delayMs);
    if (request.kind !== undefined) {
      const pattern = request.pathPattern ? new RegExp(request.pathPattern) : undefined;
      const methods = request.methods?.map((m) => m.toUpperCase());
      this.set({
        rate: request.rate ?? 1,
        kind: request.kind,
        ...(request.retryAfterSeconds !== undefined ? { retryAfterSeconds: request.retryAfterSeconds } : {}),
        match: (method, path) => (!pattern || pattern.test(path)) && (!methods || methods.includes(method)),
      });
    }
    if (request.cutWatches) this.cutWatches();
    if (request.silenceWatches) this.silenceWatches();
    if (request.nodeLost === true) this.loseNode();
    if (request.nodeLost === false) this.recoverNode();
    if (request.failContainerCreates !== undefined) this.failContainerCreates(Number(request.failContainerCreates));
  }

  /** What `GET /debug/faults` shows. */
  describe(): object {
    return { active: !!this.spec, rate: this.spec?.rate ?? 0, kind: this.spec?.kind ?? null, delayMs: this.delayMs, injected: this.injected, nodeLost: this.lost };
  }
}

/** The Status error a fault answers with (`drop` has none: the connection is cut). */
export function faultError(fault: FaultSpec): StatusError {
  switch (fault.kind) {
    case '429':
      return errors.tooManyRequests(fault.retryAfterSeconds ?? 1);
    case '400':
      return errors.badRequest('injected fault: the request was refused as malformed');
    case '403':
      return errors.forbidden('resource', 'injected', 'injected fault: access denied');
    case '422':
      return errors.invalid('Object', 'injected', [{ field: 'spec', message: 'Invalid value: injected fault', reason: 'FieldValueInvalid' }]);
    default:
      return errors.internal('injected fault');
  }
}
