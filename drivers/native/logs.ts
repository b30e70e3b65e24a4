import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { abortReason } from '../../src/abort.js';
import { writeWithBackpressure } from '../../src/kit/write.js';
import { isCode } from './record.js';

const CHUNK = 64 * 1024;

/** One log file being copied to a destination from where the copy last stopped. */
class FileTail {
  private offset = 0;
  constructor(
    private readonly path: string,
    private readonly destination: Writable | undefined,
  ) {}

  /** Copies everything the file holds beyond the offset. A missing file holds nothing. */
  async drain(signal: AbortSignal | undefined): Promise<void> {
    if (this.destination === undefined) return;
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return;
      throw error;
    }
    try {
      const buffer = Buffer.alloc(CHUNK);
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, this.offset);
        if (bytesRead === 0) return;
        this.offset += bytesRead;
        await writeWithBackpressure(this.destination, Buffer.from(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await handle.close();
    }
  }
}

/** How a follow learns that the task has ended and that something may have changed. */
export interface FollowSource {
  /** True once the process has ended; checked before each copy, so output written before the end is all delivered. */
  ended(): Promise<boolean>;
  /** Settles when the process ends (own children), so no change is missed while waiting. */
  exited?: Promise<unknown>;
  /** Checks again at this interval (only for processes of another driver instance, whose end writes nothing). */
  pollMs?: number;
}

/**
 * Copies a task's `stdout`/`stderr` files to the destinations. With `follow`, keeps
 * copying as the files grow (woken by file-system events on the task directory and
 * by the process's exit) and resolves once the process has ended and everything was
 * delivered.
 */
export async function copyLogs(
  dir: string,
  destinations: { stdout?: Writable; stderr?: Writable },
  follow: FollowSource | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tails = [new FileTail(join(dir, 'stdout'), destinations.stdout), new FileTail(join(dir, 'stderr'), destinations.stderr)];
  if (follow === undefined) {
    for (const tail of tails) await tail.drain(signal);
    return;
  }
  const wake = new Wakeup();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, () => wake.fire());
    watcher.on('error', () => wake.fire());
  } catch {
    // The directory is gone: the copy below delivers what is left (nothing) and ends.
  }
  void follow.exited?.then(() => wake.fire());
  try {
    for (;;) {
      wake.reset();
      const ended = await follow.ended();
      for (const tail of tails) await tail.drain(signal);
      if (ended || watcher === undefined) return;
      await wake.next(signal, follow.pollMs);
    }
  } finally {
    watcher?.close();
  }
}

/** A level-triggered wakeup: a `fire` between `reset` and `next` is never lost. */
export class Wakeup {
  private fired = false;
  private waiter: (() => void) | undefined;

  fire(): void {
    this.fired = true;
    this.waiter?.();
  }
  reset(): void {
    this.fired = false;
  }
  next(signal: AbortSignal | undefined, pollMs: number | undefined): Promise<void> {
    if (this.fired) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(abortReason(signal as AbortSignal));
      };
      // Referenced on purpose: the poll is the only thing that keeps an awaited
      // follow or wait of another instance's process going; it is cleared when that ends.
      const timer = pollMs === undefined ? undefined : setTimeout(done, pollMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = done;
    });
  }
}
