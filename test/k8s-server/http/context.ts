import type { PodStreams } from '../api.js';
import type { ClusterProfile } from '../profile/profile.js';
import type { ResourceInfo } from '../resources.js';
import type { Store } from '../store/store.js';

/** What the HTTP handlers share for one running server. */
export interface HttpContext {
  store: Store;
  /** The node part's pod streams (log/exec/attach). */
  node(): PodStreams;
  /** `127.0.0.1:<port>` for discovery. */
  serverAddress(): string;
  /** Interval of watch BOOKMARK events, in ms. */
  bookmarkIntervalMs: number;
  /** Open watches, so faults and restart can cut them. */
  watches: Set<() => void>;
  /** The Kubernetes version and feature gates reproduced. */
  profile: ClusterProfile;
}

/** A parsed resource URL. */
export interface Route {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}
