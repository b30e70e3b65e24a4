/** Request counts by verb, resource and subresource (Prometheus text at `/metrics`). */

/** One counted series. */
export interface RequestCount {
  /** get, list, watch, create, update, patch, delete, deletecollection, connect. */
  verb: string;
  /** Resource plural, or '' for non-resource URLs. */
  resource: string;
  subresource: string;
  count: number;
}

/** One request of the recent-request log, as an audit event records it (`requestURI` with its query). */
export interface RecordedRequest {
  verb: string;
  resource: string;
  subresource: string;
  requestURI: string;
}

/** How many requests the recent-request log keeps. */
const RECENT_REQUESTS = 1000;

export class Metrics {
  private readonly counts = new Map<string, RequestCount>();
  private recentRequests: RecordedRequest[] = [];

  record(verb: string, resource: string, subresource = '', requestURI?: string): void {
    if (requestURI !== undefined) {
      this.recentRequests.push({ verb, resource, subresource, requestURI });
      if (this.recentRequests.length > RECENT_REQUESTS) this.recentRequests.splice(0, this.recentRequests.length - RECENT_REQUESTS);
    }
    const key = `${verb}\u0000${resource}\u0000${subresource}`;
    const entry = this.counts.get(key);
    if (entry) entry.count++;
    else this.counts.set(key, { verb, resource, subresource, count: 1 });
  }

  /** A copy of every series. */
  snapshot(): RequestCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** The count for one verb/resource[/subresource] (0 when never seen). */
  count(verb: string, resource: string, subresource = ''): number {
    return this.counts.get(`${verb}\u0000${resource}\u0000${subresource}`)?.count ?? 0;
  }

  /** The last requests (up to 1000), oldest first, optionally of one verb and resource. */
  recent(verb?: string, resource?: string): RecordedRequest[] {
    return this.recentRequests.filter((r) => (verb === undefined || r.verb === verb) && (resource === undefined || r.resource === resource)).map((r) => ({ ...r }));
  }

  reset(): void {
    this.counts.clear();
    this.recentRequests = [];
  }

  /** Prometheus text exposition format. */
  toPrometheus(): string {
    const lines = ['# HELP apiserver_request_total Counter of API requests by verb, resource and subresource.', '# TYPE apiserver_request_total counter'];
    for (const c of this.counts.values()) {
      lines.push(`apiserver_request_total{verb="${c.verb}",resource="${c.resource}",subresource="${c.subresource}"} ${c.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
