import { spawn } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';

/**
 * The host's side of `kubectl cp`: the system's `tar` packs a host directory into a stream
 * or unpacks one into a directory, while the pod's side runs `tar` over exec.
 */
export interface HostTar {
  /** The tar stream (`pack`) or its destination (`unpack`). */
  stream: Readable | Writable;
  /** Resolves once tar exited 0; rejects with its stderr otherwise. */
  done: Promise<void>;
  /** Stops tar (the other side failed); `done` then rejects. */
  kill(): void;
}

/** `tar -c -C dir paths…` as a readable stream. */
export function pack(dir: string, paths: readonly string[] = ['.']): HostTar & { stream: Readable } {
  const child = spawn('tar', ['-c', '-C', dir, '--', ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Piped at once: Node discards what a child wrote to a pipe nobody reads once the child exits,
  // and the exec may start reading only after a small archive was written whole.
  const stream = child.stdout.pipe(new PassThrough());
  child.stdout.once('error', (error) => stream.destroy(error));
  return { stream, done: exited(child, `tar -c -C ${dir}`), kill: () => child.kill() };
}

/** `tar -x -C dir` fed by the returned writable; end it when the stream is complete. */
export function unpack(dir: string): HostTar & { stream: Writable } {
  const child = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  return { stream: child.stdin, done: exited(child, `tar -x -C ${dir}`), kill: () => child.kill() };
}

/** Runs `transfer` with the host's tar on the other end; tar is stopped when the transfer fails. */
export async function withHostTar<T>(host: HostTar, transfer: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await transfer();
  } catch (error) {
    host.kill();
    await host.done.catch(() => {});
    throw error;
  }
  if ('end' in host.stream) host.stream.end();
  await host.done;
  return result;
}

function exited(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${stderr.trim()}`))));
  });
}
