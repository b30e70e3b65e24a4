import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecProtocol } from '../../drivers/k8s/exec-protocol.js';
import { execInPod } from '../../drivers/k8s/remote.js';
import { K8sSandbox } from '../../drivers/k8s/sandbox.js';
import { InvalidInputError } from '../../src/errors.js';
import { ChannelServer } from '../k8s-server/node/streams/channels.js';
import { checkProperty } from './budget.js';

/**
 * The remotecommand WebSocket channels end to end over loopback, each side real: the
 * driver's exec (client-node's Exec over the driver's connector, its stdin pump and its
 * status reading) against the local server's channel sessions. The server runs a pretend
 * command: it echoes stdin to stdout, then writes the argv it received (JSON) to stderr
 * and exits with the code given as its first argument.
 */

let server: Server;
let kc: KubeConfig;
const channels = new ChannelServer(() => true);

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const argv = query.getAll('command');
    const exitCode = Number(argv[0]);
    channels.upgrade(req, socket, head, (session) => {
      session.send(1);
      const finish = (): void => {
        session.send(2, JSON.stringify(argv.slice(1)));
        session.finish({ exitCode, command: argv });
      };
      if (query.get('stdin') !== 'true') setImmediate(finish);
      return { stdin: (data) => session.send(1, data), stdinEnd: finish, resize: () => {}, closed: () => {} };
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'loop', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'loop', cluster: 'loop', user: 'nobody' }],
    currentContext: 'loop',
  });
});

afterAll(async () => {
  channels.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

class Collect extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Command arguments: any well-formed text but NUL (which validation refuses). */
const argument = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 16 }), fc.string({ unit: fc.constantFrom('&', '=', '%', '+', '?', '#', ';', ' ', '\n', '$', '"', "'", '\\', '`', '*', '%00', 'é'), maxLength: 12 })).filter((a) => !a.includes('\0'));
const input = fc.option(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), { nil: undefined });

async function run(exitCode: number, args: string[], stdin: Uint8Array[] | undefined): Promise<{ exitCode: number | null; stdout: Buffer; stderr: string }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const status = await execInPod({ kc, execProtocol: new ExecProtocol(kc) }, { namespace: 'ns', pod: 'pod', container: 'c' }, [String(exitCode), ...args], {
    stdout,
    stderr,
    ...(stdin === undefined ? {} : { stdin: Readable.from(stdin.map((chunk) => Buffer.from(chunk))) }),
    signal: AbortSignal.timeout(20_000),
  });
  return { exitCode: status.exitCode, stdout: stdout.bytes, stderr: stderr.bytes.toString() };
}

describe('exec channels over WebSocket (driver client, local server)', () => {
  it('carry the argv, stdin to the command, its stdout and stderr apart, and its exit code, unchanged', async () => {
    await checkProperty('ws channels: exec argv, stdin, stdout, stderr, status', 'stream', fc.asyncProperty(fc.integer({ min: 0, max: 255 }), fc.array(argument, { maxLength: 5 }), input, async (exitCode, args, stdin) => {
      const result = await run(exitCode, args, stdin);
      const sent = Buffer.concat((stdin ?? []).map((chunk) => Buffer.from(chunk)));
      return result.exitCode === exitCode && result.stdout.equals(sent) && result.stderr === JSON.stringify(args);
    }));
  });

  it('the server reads every protocol it offers: binary and base64 frames, stdin closed by the v5 close frame', async () => {
    const protocol = fc.constantFrom('v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io', 'v4.base64.channel.k8s.io', 'base64.channel.k8s.io');
    await checkProperty('ws channels: server framing, every protocol', 'stream', fc.asyncProperty(protocol, fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), fc.integer({ min: 0, max: 255 }), async (offered, chunks, exitCode) => {
      const { port } = server.address() as AddressInfo;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?stdin=true&command=${exitCode}`, [offered]);
      const base64 = offered.includes('base64');
      const received: Buffer[] = [];
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const channel = base64 && !isBinary ? data[0]! - 0x30 : data[0];
        const payload = base64 && !isBinary ? Buffer.from(data.subarray(1).toString(), 'base64') : data.subarray(1);
        if (channel === 1) received.push(payload);
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      for (const chunk of chunks) ws.send(base64 ? `0${Buffer.from(chunk).toString('base64')}` : Buffer.concat([Buffer.from([0]), chunk]), { binary: !base64 });
      // v5 ends stdin with a close frame and keeps the socket; older protocols close it.
      if (offered === 'v5.channel.k8s.io') ws.send(Buffer.from([255, 0]));
      else ws.close();
      await closed;
      const sent = Buffer.concat(chunks.map((c) => Buffer.from(c)));
      // Without v5 the client closed first: the echo may be cut where the close overtook it.
      return offered === 'v5.channel.k8s.io' ? Buffer.concat(received).equals(sent) : sent.subarray(0, Buffer.concat(received).length).equals(Buffer.concat(received));
    }));
  });

  it('regression: an argument or workDir that is not well-formed text is refused before anything is sent', async () => {
    // Below validation, the exec URL cannot carry it: client-node's query encoding throws a plain URIError.
    await expect(run(0, ['\uD800'], undefined)).rejects.not.toBeInstanceOf(InvalidInputError);
    const sandbox = new K8sSandbox({ kc, ns: 'ns' } as never, 'id', 'pod', '/work', undefined as never);
    await expect(sandbox.exec(['echo', '\uD800'])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(sandbox.exec(['echo'], { workDir: 'a\uDC00' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
