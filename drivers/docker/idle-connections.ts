import type { Agent } from 'node:http';
import type Dockerode from 'dockerode';
import { nodeHttp, nodeHttps } from '../../src/kit/http-modules.js';

/** The parts of docker-modem's client this reads: where it connects, and through which agent. */
interface ModemAddress {
  agent?: Agent;
  protocol?: string;
  socketPath?: string;
  host?: string;
  port?: number | string;
}

/**
 * Destroys the idle pooled connections to the client's engine. One connection found
 * half-open makes the others of the same path suspect: a NAT, a proxy or a stalled engine
 * drops every flow at once, and a retry must not pick another dead socket from the pool.
 * Connections in use are left to their own requests; other engines' connections are kept.
 */
export function dropIdleConnections(docker: Dockerode): void {
  const modem = docker.modem as unknown as ModemAddress;
  const agent = modem.agent ?? (modem.protocol === 'https' ? nodeHttps().globalAgent : nodeHttp().globalAgent);
  // Pool keys are `host:port:localAddress[:family]`, with `:socketPath` for a Unix socket.
  const ours = (key: string): boolean =>
    typeof modem.socketPath === 'string' && modem.socketPath !== '' ? key.endsWith(`:${modem.socketPath}`) : key.startsWith(`${modem.host}:${modem.port ?? ''}:`);
  for (const [key, sockets] of Object.entries(agent.freeSockets ?? {})) {
    if (!ours(key)) continue;
    for (const socket of sockets ?? []) socket.destroy();
  }
}
