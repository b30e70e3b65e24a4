import type { Agent } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { nodeHttp, nodeHttps } from '../../src/kit/http-modules.js';
import { clusterIdentity } from './kubeconfig.js';

/**
 * Kept-alive connections for the driver's own GETs (`kubeGet`: pod logs, plain and
 * followed, the split-streams probe, the pod watch), one pool per cluster and user for the
 * whole process. The agent client-node's `applyToHTTPSOptions` hands out is an
 * `https.Agent` without `keepAlive`, so every read opened a TLS connection of its own and
 * closed it after the answer: a handshake and its buffers per read (docs/performance.md,
 * Scale and P6k).
 *
 * - **Credentials.** The pool holds no credentials. Each request carries what client-node's
 *   `applyToHTTPSOptions` computed for it — the token of the moment (an exec plugin's or an
 *   auth provider's, refreshed by client-node) in its headers, and its CA, client certificate
 *   and key, server name and verification as TLS options — and Node's agent reuses a
 *   connection only for a request with the same TLS options (`Agent.getName` keys its pools
 *   by them), so a rotated client certificate gets connections of its own.
 * - **No limit.** A follow holds its connection for its task's life, so the pool has none
 *   (`maxSockets` unbounded): a 51st follow opens a 51st connection instead of waiting for
 *   one of 50 held ones. Idle connections are unreferenced (they never keep the process
 *   alive) and closed after {@link IDLE_MS}, or sooner when the server announces a shorter
 *   keep-alive (Node's agent honours `Keep-Alive: timeout=N`, less a second).
 * - **Proxies.** A cluster reached through `proxy-url` keeps client-node's proxy agent, as
 *   before: one connection per read.
 * - **Release.** Each driver holds its cluster's pool from its creation to the end of its
 *   close ({@link holdKeptAliveConnections}); when the last one lets go, every connection of
 *   the pool is destroyed and the next use makes a new pool. Aborted reads destroy their own.
 */

/**
 * How long an idle connection is kept, in ms. client-go keeps them 90 s (net/http's
 * `DefaultTransport.IdleConnTimeout`, taken by apimachinery `pkg/util/net/http.go`
 * `SetOldTransportDefaults`); 30 s stays under the idle timeouts of common load balancers
 * (60 s), which drop a flow without a word.
 */
const IDLE_MS = 30_000;

/**
 * TCP keep-alive probes on the pool's connections start after this much silence, in ms
 * (client-node uses 30 s for its own connections, "to match client-go").
 */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

interface Pool {
  readonly agent: Agent;
  /** Drivers holding the pool open. */
  holders: number;
}

/** The process's pools, by cluster and user (`clusterIdentity`). */
const pools = new Map<string, Pool>();

/**
 * The agent for a request to `kc`'s cluster: its kept-alive pool, or `undefined` where the
 * cluster is reached through a proxy (the request then keeps the agent client-node gave it).
 */
export function keptAliveAgentFor(kc: KubeConfig): Agent | undefined {
  return poolOf(kc)?.pool.agent;
}

/**
 * Holds `kc`'s pool open until the returned function is called (once; later calls do
 * nothing). The last holder to let go destroys every connection of the pool, idle or not.
 */
export function holdKeptAliveConnections(kc: KubeConfig): () => void {
  const found = poolOf(kc);
  if (found === undefined) return () => undefined;
  const { key, pool } = found;
  pool.holders += 1;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    pool.holders -= 1;
    if (pool.holders > 0) return;
    if (pools.get(key) === pool) pools.delete(key);
    pool.agent.destroy();
  };
}

/**
 * Closes every idle connection of `agent`. For a connection found half-open: the others to
 * the same server likely crossed the same path (a NAT or firewall that dropped one flow's
 * state), and a request sent on one would cost another silent interval.
 */
export function dropIdleConnections(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets ?? {})) for (const socket of [...(sockets ?? [])]) socket.destroy();
}

/** `kc`'s pool and its key, made on first use; none for a cluster reached through a proxy. */
function poolOf(kc: KubeConfig): { key: string; pool: Pool } | undefined {
  const cluster = kc.getCurrentCluster();
  if (cluster === null || (cluster.proxyUrl ?? '') !== '') return undefined;
  const key = clusterIdentity(kc);
  let pool = pools.get(key);
  if (pool === undefined) {
    const options = { keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_DELAY_MS, timeout: IDLE_MS, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' as const };
    pool = { agent: cluster.server.startsWith('https:') ? new (nodeHttps().Agent)(options) : new (nodeHttp().Agent)(options), holders: 0 };
    pools.set(key, pool);
  }
  return { key, pool };
}
