import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';

/**
 * A container's probe, run as a kubelet's prober does (pkg/kubelet/prober/prober.go runProbe,
 * pkg/kubelet/prober/worker.go): `exec` runs the command in the container and succeeds on
 * exit 0 within `timeoutSeconds` (pkg/probe/exec); `tcpSocket` succeeds when the port takes a
 * connection (pkg/probe/tcp/tcp.go DoTCPProbe dials the pod IP). Pods here have no address the
 * node can dial (network `none`), so the TCP probe reads the socket tables of the pod's network
 * namespace from inside it (`cat /proc/net/tcp /proc/net/tcp6` in the pod's network holder) and
 * succeeds when a socket LISTENs on the port: what a dial needs to be accepted. `httpGet` and
 * `grpc` are not run here: they fail, with a message saying so.
 */

/** A probe's settings with the API's defaults (pkg/apis/core/v1/defaults.go SetDefaults_Probe). */
export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export function probeTiming(probe: any): ProbeTiming {
  return {
    initialDelayMs: Number(probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, Number(probe.periodSeconds ?? 10)) * 1000,
    timeoutMs: Math.max(1, Number(probe.timeoutSeconds ?? 1)) * 1000,
    failureThreshold: Math.max(1, Number(probe.failureThreshold ?? 3)),
  };
}

/** One probe run: `true`, or why it failed (the kubelet's `Unhealthy` event message). */
export async function runProbe(docker: Dockerode, probe: any, container: any, target: { containerId: string; holderId: string | undefined }, timeoutMs: number): Promise<true | string> {
  if (probe.exec) {
    const result = await execIn(docker, target.containerId, (probe.exec.command ?? []).map(String), timeoutMs);
    if (result === 'timeout') return `command timed out after ${timeoutMs / 1000}s`;
    return result.exitCode === 0 ? true : `command ${JSON.stringify(probe.exec.command)} exited with ${result.exitCode}: ${result.output.trim()}`;
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, container);
    if (port === undefined) return `named port ${JSON.stringify(probe.tcpSocket.port)} not found in the container's ports`;
    const result = await execIn(docker, target.holderId ?? target.containerId, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], timeoutMs);
    if (result !== 'timeout' && listens(result.output, port)) return true;
    return `dial tcp :${port}: connect: connection refused`;
  }
  return 'this local kubelet runs exec and tcpSocket probes only';
}

/** A probe's port: a number, or the name of one of the container's ports (pkg/kubelet/prober/prober.go findPortByName). */
function resolvePort(port: unknown, container: any): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p: any) => p.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

/** A LISTEN (state 0A, include/net/tcp_states.h) row of /proc/net/tcp{,6} whose local port is `port`. */
function listens(table: string, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return table.split('\n').some((line) => {
    const columns = line.trim().split(/\s+/);
    return columns[3] === '0A' && columns[1]?.split(':')[1]?.toUpperCase() === hex;
  });
}

async function execIn(docker: Dockerode, containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string } | 'timeout'> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  docker.modem.demuxStream(stream, sink, sink);
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<'ended'>((resolve) => {
    stream.on('end', () => resolve('ended'));
    stream.on('close', () => resolve('ended'));
    stream.on('error', () => resolve('ended'));
  });
  const outcome = await Promise.race([ended, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  stream.destroy();
  if (outcome === 'timeout') return 'timeout';
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? null, output: Buffer.concat(chunks).toString('utf8') };
}
