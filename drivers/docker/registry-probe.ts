import type Dockerode from 'dockerode';
import { anySignal } from '../../src/abort.js';
import type { RegistryCredentials } from '../../src/credentials.js';
import { DOCKER_HUB } from '../../src/image-reference.js';

/**
 * Why a push failed, asked of the registry itself. The engine reports a failed push as
 * a message inside a 200 response, without a status code; so the registry's base
 * endpoint is asked directly, and its HTTP status and challenge are read as the
 * Distribution spec defines them (`GET /v2/`: 200, or 401 with `WWW-Authenticate`;
 * for a `Bearer` challenge the token endpoint of the Docker token auth spec answers
 * 200 or 401 for the credentials).
 *
 * The registry is asked from this process, over HTTPS, and over plain HTTP only when
 * the engine itself treats the registry as insecure (its `insecure-registries`,
 * 127.0.0.0/8 by default), as the engine does.
 */

export type ProbeVerdict = 'Unreachable' | 'Unauthorized' | 'Authorized' | 'Unknown';

/** Longest time the probe may take, in ms: it only classifies an error already known. */
const PROBE_TIMEOUT_MS = 10_000;
/** Failures to open a connection at all. A reset is not one: a plain-HTTP registry may reset a TLS handshake. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export async function probeRegistry(docker: Dockerode, registry: string, repository: string, credentials: RegistryCredentials | undefined, signal?: AbortSignal): Promise<ProbeVerdict> {
  const deadline = anySignal([signal], PROBE_TIMEOUT_MS);
  const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  const basic = credentials?.username !== undefined && credentials.password !== undefined ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  const ask = async (scheme: 'https' | 'http'): Promise<Response | ProbeVerdict> => {
    try {
      return await fetch(`${scheme}://${host}/v2/`, { headers: basic === undefined ? {} : { authorization: basic }, signal: deadline, redirect: 'manual' });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return typeof code === 'string' && CONNECT_FAILURES.has(code) ? 'Unreachable' : 'Unknown';
    }
  };
  let answer = await ask('https');
  if (answer === 'Unknown' && !deadline.aborted && (await isInsecure(docker, registry, deadline))) answer = await ask('http');
  if (typeof answer === 'string') return answer;
  if (answer.status === 200) return 'Authorized';
  if (answer.status !== 401) return 'Unknown';
  const challenge = parseChallenge(answer.headers.get('www-authenticate') ?? '');
  if (challenge === undefined) return 'Unknown';
  if (challenge.scheme === 'basic') return 'Unauthorized';
  // Bearer: the token endpoint says whether the credentials are good; an anonymous token never allows a push.
  if (basic === undefined) return 'Unauthorized';
  const realm = challenge.params.realm;
  if (realm === undefined) return 'Unknown';
  const url = new URL(realm);
  if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', `repository:${repository}:push,pull`);
  try {
    const token = await fetch(url, { headers: { authorization: basic }, signal: deadline, redirect: 'manual' });
    if (token.status === 200) return 'Authorized';
    return token.status === 401 || token.status === 403 ? 'Unauthorized' : 'Unknown';
  } catch {
    return 'Unknown';
  }
}

/** `Basic realm="x"` / `Bearer realm="…",service="…"` → scheme and parameters. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  for (const p of match[2]!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Whether the engine talks plain HTTP to the registry (`docker info` RegistryConfig: the registry's index config, or an insecure CIDR holding its IP). */
async function isInsecure(docker: Dockerode, registry: string, signal: AbortSignal): Promise<boolean> {
  try {
    const info = (await (docker.info({ abortSignal: signal } as never) as unknown as Promise<unknown>)) as { RegistryConfig?: { IndexConfigs?: Record<string, { Secure?: boolean }>; InsecureRegistryCIDRs?: string[] } };
    const config = info.RegistryConfig ?? {};
    if (config.IndexConfigs?.[registry]?.Secure === false) return true;
    const ip = registry.replace(/:\d+$/, '');
    return (config.InsecureRegistryCIDRs ?? []).some((cidr) => inIpv4Cidr(ip, cidr));
  } catch {
    return false;
  }
}

function inIpv4Cidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const toNumber = (address: string): number | undefined => {
    const parts = address.split('.').map(Number);
    return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts.reduce((n, p) => n * 256 + p, 0) : undefined;
  };
  const address = toNumber(ip);
  const network = base === undefined ? undefined : toNumber(base);
  const prefix = Number(bits);
  if (address === undefined || network === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}
