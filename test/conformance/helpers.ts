import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { expect } from 'vitest';
import { CollectingWritable } from '../../src/logs.js';
import type { Container, ContainerStatus, Driver, LogResult, Task } from '../../src/types.js';

/** A command run by the image's shell. */
export function sh(script: string): string[] {
  return ['sh', '-c', script];
}

/** A container's output, and whether the engine kept the streams apart. */
export interface Output {
  stdout: string;
  stderr: string;
  streams: LogResult['streams'];
}

/** What a finished task left: its final status and its output. */
export interface Finished extends Output {
  container: Container;
  status: ContainerStatus;
}

/** Runs `task`, waits for it to end and reads its logs. */
export async function runToEnd(driver: Driver, task: Task, signal: AbortSignal): Promise<Finished> {
  const container = await driver.runContainer(task, { signal });
  return finish(container, signal);
}

/** Waits for `container` to end and reads its logs. */
export async function finish(container: Container, signal: AbortSignal): Promise<Finished> {
  const status = await container.wait({ signal });
  return { container, status, ...(await readOutput(container, signal)) };
}

/** The container's output so far as two strings. */
export async function readOutput(container: Container, signal: AbortSignal, follow = false): Promise<Output> {
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  const { streams } = await container.logs({ stdout, stderr, follow, signal });
  return { stdout: stdout.text(), stderr: stderr.text(), streams };
}

/**
 * Asserts a task's output: `stdout` and `stderr` exactly, where the engine keeps them apart;
 * where it cannot (`streams: 'combined'`, e.g. Kubernetes without split log streams), the
 * combined log in `stdout` (each line of both, once, each stream's lines in their order)
 * and nothing in `stderr`.
 */
export function expectOutput(actual: Output, stdout: string, stderr: string): void {
  if (actual.streams === 'separate') {
    expect({ stdout: actual.stdout, stderr: actual.stderr }).toEqual({ stdout, stderr });
    return;
  }
  expect(actual.stderr, 'stderr of a combined log').toBe('');
  expect(isInterleaving(lines(actual.stdout), lines(stdout), lines(stderr)), `${JSON.stringify(actual.stdout)} interleaves ${JSON.stringify(stdout)} and ${JSON.stringify(stderr)}`).toBe(true);
}

function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Whether `whole` is `a` and `b` merged, each keeping its order. */
function isInterleaving(whole: readonly string[], a: readonly string[], b: readonly string[]): boolean {
  if (whole.length !== a.length + b.length) return false;
  // can[i][j]: the first i + j lines of `whole` are a[0..i) and b[0..j) merged.
  const can = Array.from({ length: a.length + 1 }, () => new Array<boolean>(b.length + 1).fill(false));
  for (let i = 0; i <= a.length; i += 1) {
    for (let j = 0; j <= b.length; j += 1) {
      const line = whole[i + j - 1];
      can[i]![j] = (i === 0 && j === 0) || (i > 0 && can[i - 1]![j]! && a[i - 1] === line) || (j > 0 && can[i]![j - 1]! && b[j - 1] === line);
    }
  }
  return can[a.length]![b.length]!;
}

/** Asserts that `promise` rejects with an instance of `type` and returns the error. */
export async function expectRejection<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: any[]) => E): Promise<E> {
  let outcome: { error: unknown } | undefined;
  try {
    await promise;
  } catch (error) {
    outcome = { error };
  }
  if (outcome === undefined) throw new Error(`expected a rejection with ${type.name}, but the promise resolved`);
  expect(outcome.error, `expected ${type.name}, got ${String(outcome.error)}`).toBeInstanceOf(type);
  return outcome.error as E;
}

/**
 * Asserts that `actual` (what `pwd` printed in a task) is the task's view of the absolute
 * path `expected`. Drivers that run from an image (`capabilities.enforces.image`) show it
 * literally; a host-process driver maps container paths under the task's own directory,
 * so there the printed path ends with `expected`.
 */
export function expectTaskPath(actual: string | undefined, expected: string, literal: boolean): void {
  if (literal) expect(actual).toBe(expected);
  else {
    expect(actual?.startsWith('/')).toBe(true);
    expect(actual?.endsWith(expected), `${actual} should end with ${expected}`).toBe(true);
  }
}

/** One tar entry: a file with its bytes, or a directory. */
export interface TarEntry {
  type: 'file' | 'directory';
  content: Buffer;
}

/**
 * Reads a tar stream into a map keyed by entry name. Names are normalised only in ways
 * that keep them relative to the same root: a leading `./` and a trailing `/` are dropped.
 */
export async function readTar(stream: Readable): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const parser = extract();
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (chunk: unknown) => {
        chunks.push(chunk as Buffer);
      });
      body.on('end', () => {
        const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
        if (name !== '' && name !== '.') {
          if (header.type === 'directory') entries.set(name, { type: 'directory', content: Buffer.alloc(0) });
          else if (header.type === 'file') entries.set(name, { type: 'file', content: Buffer.concat(chunks) });
        }
        next();
      });
      body.on('error', reject);
    });
    parser.on('finish', resolve);
    parser.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(parser);
  await done;
  return entries;
}

/** The files and directories of a tar map, file contents as text, for readable assertions. */
export function describeTar(entries: Map<string, TarEntry>): Record<string, string> {
  return Object.fromEntries([...entries].map(([name, entry]) => [name, entry.type === 'directory' ? '<dir>' : entry.content.toString('utf8')]));
}
