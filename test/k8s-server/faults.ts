/** Run-time fault injection for the local API server. */

/** What to inject into a share of requests. */
export interface FaultSpec {
  /** Share of matching requests that fail, 0..1. */
  rate: number;
  /** `429` (with Retry-After), `500`, or `drop` (the connection is destroyed without a response). */
  kind: '429' | '500' | 'drop';
  /** Retry-After of a 429, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /** Only requests this returns true for are affected. @default all resource requests */
  match?: (method: string, path: string) => boolean;
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
}

export class Faults {
  private spec: FaultSpec | undefined;
  /** Latency added to every resource request, in ms. @default 0 */
  delayMs = 0;

  constructor(private readonly cutAll: () => number) {}

  set(spec: FaultSpec): void {
    if (!(spec.rate >= 0 && spec.rate <= 1)) throw new TypeError('faults.rate must be between 0 and 1');
    if (!['429', '500', 'drop'].includes(spec.kind)) throw new TypeError("faults.kind must be '429', '500' or 'drop'");
    this.spec = { ...spec };
  }

  clear(): void {
    this.spec = undefined;
    this.delayMs = 0;
  }

  /** Drops every open watch connection; returns how many were cut. */
  cutWatches(): number {
    return this.cutAll();
  }

  /** The fault to inject into this request, if any. */
  pick(method: string, path: string): FaultSpec | undefined {
    const spec = this.spec;
    if (!spec) return undefined;
    if (spec.match && !spec.match(method, path)) return undefined;
    return Math.random() < spec.rate ? spec : undefined;
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
  }

  /** What `GET /debug/faults` shows. */
  describe(): object {
    return { active: !!this.spec, rate: this.spec?.rate ?? 0, kind: this.spec?.kind ?? null, delayMs: this.delayMs };
  }
}
