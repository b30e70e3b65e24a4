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
  /** Open watches, so faults and restart can cut or silence them. */
  watches: Set<OpenWatch>;
  /** The Kubernetes version and feature gates reproduced. */
  profile: ClusterProfile;
}

/** One open watch, as faults see it. */
export interface OpenWatch {
  /** Drops the connection without a clean end. */
  cut(): void;
  /** Writes nothing more on it, its end included (a half-open connection). */
  silence(): void;
}

/** A parsed resource URL. */
export interface Route {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}
