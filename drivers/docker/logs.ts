import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, ContainerNotFoundError, EngineError, EngineUnavailableError } from '../../src/errors.js';
import type { LogOptions } from '../../src/types.js';
import { engineCall, quickEngineCall, type DockerContext } from './context.js';
import { drained } from '../../src/kit/write.js';
import type { EngineSubject } from './engine-errors.js';
import { LineRepair } from './line-repair.js';
import { logRecords, type LogRecord } from './log-records.js';
import { watchSilence } from './silence.js';

/** Reads in a row that may go silent (half-open connections) before the engine is given up. */
const MAX_SILENT_READS = 3;

/**
 * Writes a container's output to `stdout` and `stderr`, byte for byte, the last byte
 * included.
 *
 * Every read asks for timestamps, so that each frame is one message of the log and
 * {@link LineRepair} can restore the newlines Docker 20.10's `local` log driver drops.
 * A follow is only opened while the container runs (the engine answers a follow of a
 * stopped container with everything at once). When the engine ends a follow, the log is
 * read once more and the messages already delivered are skipped: the engine's follow
 * (20.10, both file drivers) can end on the container's stop before it has read the
 * messages written last (moby/moby#43860), while a read of a stopped container's log is
 * complete — the engine drains the log copier and closes the log before it marks the
 * container stopped (daemon/monitor.go, handleContainerExit → Container.Reset).
 *
 * A read that brings nothing for `livenessIntervalMs` is checked: a follow of a running
 * container may be quiet; a follow of a stopped one, or a plain read, that is silent sits
 * on a half-open connection. It is dropped and read again on a fresh connection, the
 * messages already delivered skipped, so the output arrives whole; after
 * {@link MAX_SILENT_READS} silent reads in a row the call rejects with
 * `EngineUnavailableError`.
 */
export async function deliverLogs(ctx: DockerContext, engineId: string, subject: EngineSubject, options: LogOptions, tty = false): Promise<void> {
  const delivery = tty ? new TerminalDelivery(options.stdout) : new Delivery(options.stdout, options.stderr);
  let follow = options.follow === true && (await isRunning(ctx, engineId, subject, options.signal));
  const readOnce = async (): Promise<void> => {
    delivery.startRead();
    const source = await openLogStream(ctx, engineId, subject, follow, !tty, options.signal);
    const silence = watchSilence(source, ctx.options.livenessIntervalMs, subject.kind === 'container' ? `the log of task "${subject.taskId}"` : 'a container log', async (signal) =>
      follow && (await isRunning(ctx, engineId, subject, signal)) ? 'quiet' : 'lost',
    );
    try {
      await pipeline(source, delivery.sink(), options.signal === undefined ? {} : { signal: options.signal });
    } catch (error) {
      // An abort cuts the engine's response first (ECONNRESET): the caller gets its own reason.
      options.signal?.throwIfAborted();
      throw silence.tripped ?? error;
    } finally {
      silence.stop();
    }
  };
  const read = async (): Promise<void> => {
    for (let silent = 1; ; silent++) {
      try {
        return await readOnce();
      } catch (error) {
        if (!(error instanceof EngineUnavailableError) || silent >= MAX_SILENT_READS || options.signal?.aborted === true) throw error;
        follow = follow && (await isRunning(ctx, engineId, subject, options.signal));
      }
    }
  };
  await read();
  while (follow) {
    // The engine ended the follow: the container stopped, or the stream was cut while it runs;
    // or the container was removed meanwhile, and its output with it: gone (404), or being
    // removed (409, which the engine answers a log read of a container marked for removal).
    try {
      follow = await isRunning(ctx, engineId, subject, options.signal);
      await read();
    } catch (error) {
      if (error instanceof ContainerNotFoundError || error instanceof ConflictError) return;
      throw error;
    }
  }
  delivery.check();
}

/** Where one read of the log goes, and what the reads after it skip. */
interface LogDelivery {
  /** The destination of one read (a fresh one per read). */
  sink(): Writable;
  /** A read starts at the log's beginning: what is delivered already is skipped. */
  startRead(): void;
  /** Throws when the final read was marked as failed by the engine. */
  check(): void;
}

/**
 * The log of a container with a terminal: the engine keeps the terminal's stream as it came
 * (no frames, no stderr) and sends it raw, so it is read without timestamps and a read again
 * skips the bytes already delivered.
 */
class TerminalDelivery implements LogDelivery {
  private delivered = 0;
  private skip = 0;

  constructor(private readonly stdout: Writable | undefined) {}

  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        let bytes = chunk;
        if (this.skip > 0) {
          const skipped = Math.min(this.skip, bytes.length);
          this.skip -= skipped;
          bytes = bytes.subarray(skipped);
        }
        this.delivered += bytes.length;
        if (bytes.length === 0 || this.stdout === undefined || this.stdout.write(bytes)) callback();
        else drained(this.stdout).then(() => callback(), callback);
      },
    });
  }

  startRead(): void {
    this.skip = this.delivered;
  }

  check(): void {}
}

/** Sorts records to the destinations, skipping those a previous read delivered. */
class Delivery implements LogDelivery {
  private readonly repairs = new Map<number, LineRepair>([
    [1, new LineRepair()],
    [2, new LineRepair()],
  ]);
  /** Messages delivered so far (both streams, in the log's order). */
  private delivered = 0;
  /** Messages the current read skips: a read starts at the log's beginning. */
  private skip = 0;
  /** The engine's own error frame of the last read, if any. */
  private engineError: string | undefined;

  constructor(
    private readonly stdout: Writable | undefined,
    private readonly stderr: Writable | undefined,
  ) {}

  sink(): Writable {
    return logRecords((record) => this.accept(record));
  }

  private accept(record: LogRecord): Promise<void> | undefined {
    const repair = this.repairs.get(record.stream);
    if (repair === undefined) {
      // Stream 3: the engine failed to read its log; anything else is not task output.
      if (record.stream === 3) this.engineError = record.payload.toString('utf8').trim();
      return undefined;
    }
    if (this.skip > 0) {
      this.skip -= 1;
      return undefined;
    }
    this.delivered += 1;
    const target = record.stream === 1 ? this.stdout : this.stderr;
    let pause: Promise<void> | undefined;
    for (const chunk of repair.next(record.timestamp, record.payload)) {
      if (target !== undefined && !target.write(chunk)) pause = drained(target);
    }
    return pause;
  }

  /** A read starts at the log's beginning: what is delivered already is skipped. */
  startRead(): void {
    this.skip = this.delivered;
    // An error frame of a follow is made good by the read that follows it.
    this.engineError = undefined;
  }

  /** The final read the engine marked as failed must not pass as complete. */
  check(): void {
    if (this.engineError !== undefined) throw new EngineError(`the engine could not read the container's log: ${this.engineError}`, undefined);
  }
}

async function isRunning(ctx: DockerContext, engineId: string, subject: EngineSubject, signal: AbortSignal | undefined): Promise<boolean> {
  const info = await quickEngineCall(ctx, subject, (bounded) => ctx.docker().getContainer(engineId).inspect({ abortSignal: bounded }), { signal });
  return info.State.Running === true;
}

function openLogStream(ctx: DockerContext, engineId: string, subject: EngineSubject, follow: boolean, timestamps: boolean, signal: AbortSignal | undefined): Promise<Readable> {
  // The raw endpoint is dialled so that logs always stream (dockerode buffers the whole log unless following).
  const modem = ctx.docker().modem;
  return engineCall(
    ctx,
    subject,
    () =>
      new Promise<Readable>((resolve, reject) => {
        modem.dial(
          {
            path: `/containers/${engineId}/logs?`,
            method: 'GET',
            options: { follow, stdout: true, stderr: true, timestamps },
            abortSignal: signal,
            isStream: true,
            statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
          },
          (error: unknown, stream: unknown) => (error ? reject(error) : resolve(stream as Readable)),
        );
      }),
    { signal, idempotent: true },
  );
}
