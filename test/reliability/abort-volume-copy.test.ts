import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../../src/types.js';
import { readTar } from '../conformance/helpers.js';
import { ALL_DRIVERS, dockerCount, k8sCount, randomId, type DriverUnderTest } from './drivers.js';
import { testNamespace } from '../setup/test-run.js';
import { eventually } from '../support/poll.js';
import { tarOf } from '../support/tar.js';

/**
 * An AbortSignal fired while a volume copy's tar stream is flowing (and before its first
 * byte) ends the copy promptly with the signal's reason, leaves no helper (container, pod,
 * open file) behind, and leaves the volume usable: a new copy reads it whole.
 *
 * What an aborted copyToVolume leaves: the files the volume held before are untouched; of
 * the archive's files, each is absent, or complete, or (Docker, native) cut short: a prefix
 * of its content. Kubernetes extracts into a staging directory and merges only a complete
 * archive, so there nothing of it arrives. Copying the same archive again completes it.
 */

const MIB = 1024 * 1024;
/** Three files of 8 MiB: a copy is certainly mid-way when 1 MiB has passed. */
const FILE_COUNT = 3;
const FILE_BYTES = 8 * MIB;
/** How much of the stream passes before the abort. */
const ABORT_AFTER_BYTES = MIB;
/** Longest the stream or promise may take to fail after the abort, in ms. */
const PROMPT_MS = 5_000;

type Files = ReadonlyMap<string, Buffer>;

/** Copy capabilities declared by each driver, read from a probe closed at once. */
async function announcing(): Promise<DriverUnderTest[]> {
  const found: DriverUnderTest[] = [];
  for (const under of ALL_DRIVERS) {
    const probe = under.create(testNamespace('rav'));
    const caps = probe.capabilities;
    await probe.close({ signal: AbortSignal.timeout(30_000) });
    if (caps.copyToVolume && caps.copyFromVolume && caps.readFilesFromVolume) found.push(under);
  }
  return found;
}

describe('abort of volume copies mid-stream', async () => {
  const drivers = await announcing();

  describe.each(drivers)('on $name', (under: DriverUnderTest) => {
    const namespace = testNamespace('rav');
    const seeded = randomFiles('seed');
    let driver: Driver;
    let volume: string;

    beforeAll(async () => {
      driver = under.create(namespace);
      volume = (await driver.createVolume(randomId('vol'), { signal: AbortSignal.timeout(under.budgetMs) })).name;
      await driver.copyToVolume!(volume, countingTar(seeded), { signal: AbortSignal.timeout(under.budgetMs) });
    }, 120_000);

    afterAll(async () => {
      await driver.close({ signal: AbortSignal.timeout(60_000) });
    }, 90_000);

    /** Helper containers or pods of the namespace (Docker, k8s); files the driver holds open under its root (native). */
    const helpersLeft = (): Promise<number> => {
      if (under.name === 'docker') return dockerCount(namespace);
      if (under.name === 'k8s') return k8sCount(namespace);
      return Promise.resolve(openFilesUnder(join(tmpdir(), 'drivetrain-native', namespace)));
    };
    const nothingLeft = async (): Promise<void> => {
      await eventually(async () => (await helpersLeft()) === 0, under.budgetMs, 'the copy helper to be gone');
    };
    /** The volume still reads whole, and holds at least `files`, byte for byte. */
    const readsWhole = async (files: Files): Promise<Map<string, Buffer>> => {
      const entries = await readTar(await driver.copyFromVolume!(volume, { signal: AbortSignal.timeout(under.budgetMs) }));
      const content = new Map([...entries].filter(([, entry]) => entry.type === 'file').map(([name, entry]) => [name, entry.content]));
      for (const [name, bytes] of files) expect(content.get(name)?.equals(bytes), `${name} intact`).toBe(true);
      return content;
    };

    const reads = [
      ['copyFromVolume', () => driver.copyFromVolume!.bind(driver)],
      ['readFilesFromVolume', () => (v: string, o: { signal: AbortSignal }) => driver.readFilesFromVolume!(v, [...seeded.keys()], o)],
    ] as const;

    for (const [operation, method] of reads) {
      it(`${operation} aborted after its first MiB: the stream fails at once with the signal's AbortError, no helper is left, the volume reads whole`, { timeout: 120_000 }, async () => {
        const controller = new AbortController();
        const stream = await method()(volume, { signal: controller.signal });
        await received(stream, ABORT_AFTER_BYTES, under.budgetMs);
        // The reader stops pulling too: the stream must fail without being drained.
        stream.pause();
        const failed = failure(stream, PROMPT_MS);
        controller.abort();
        const error = await failed;
        expect(error).toBe(controller.signal.reason);
        expect((error as Error).name).toBe('AbortError');
        await nothingLeft();
        await readsWhole(seeded);
      });

      it(`${operation} aborted before its first byte was read: the stream fails at once with the signal's reason, no helper is left`, { timeout: 120_000 }, async () => {
        const controller = new AbortController();
        const stream = await method()(volume, { signal: controller.signal });
        const reason = new Error('reader gone');
        const failed = failure(stream, PROMPT_MS);
        controller.abort(reason);
        expect(await failed).toBe(reason);
        await nothingLeft();
      });

      it(`${operation} with an already-aborted signal rejects at once with its reason and creates no helper`, { timeout: 60_000 }, async () => {
        const reason = new Error('never mind');
        const started = Date.now();
        await expect(method()(volume, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(await helpersLeft()).toBe(0);
      });
    }

    it('copyToVolume aborted after taking its first MiB rejects at once with the AbortError; old files intact, new ones absent or cut short; copying again completes', { timeout: 120_000 }, async () => {
      const incoming = randomFiles('incoming');
      const controller = new AbortController();
      let abortedAt = 0;
      const source = countingTar(incoming, (taken) => {
        if (taken < ABORT_AFTER_BYTES || controller.signal.aborted) return;
        abortedAt = Date.now();
        controller.abort();
      });
      const copy = driver.copyToVolume!(volume, source, { signal: controller.signal });
      const error = await within(copy.then(() => undefined, (e: unknown) => e), under.budgetMs, 'the aborted copy to settle');
      expect(controller.signal.aborted, 'the copy took its first MiB before it ended').toBe(true);
      expect(error).toBe(controller.signal.reason);
      expect(Date.now() - abortedAt).toBeLessThan(PROMPT_MS);
      expect(source.destroyed, 'the caller\'s tar stream is released').toBe(true);
      await nothingLeft();

      const after = await readsWhole(seeded);
      for (const [name, bytes] of incoming) {
        const got = after.get(name);
        if (got !== undefined) expect(bytes.subarray(0, got.length).equals(got), `${name}: a prefix of its content`).toBe(true);
      }
      if (under.name === 'k8s') for (const name of incoming.keys()) expect(after.has(name), `${name} staged, never merged`).toBe(false);

      await driver.copyToVolume!(volume, countingTar(incoming), { signal: AbortSignal.timeout(under.budgetMs) });
      await readsWhole(new Map([...seeded, ...incoming]));
      await nothingLeft();
    });

    it('copyToVolume with an already-aborted signal rejects at once with its reason and creates no helper', { timeout: 60_000 }, async () => {
      const reason = new Error('never mind');
      const started = Date.now();
      await expect(driver.copyToVolume!(volume, countingTar(randomFiles('late')), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await helpersLeft()).toBe(0);
    });
  });
});

function randomFiles(prefix: string): Map<string, Buffer> {
  return new Map(Array.from({ length: FILE_COUNT }, (_, i) => [`${prefix}-${i}.bin`, randomBytes(FILE_BYTES)] as const));
}

/** A tar of `files` handed out in 64 KiB pieces; `onTaken` hears the running total the reader has taken. */
function countingTar(files: Files, onTaken: (bytes: number) => void = () => {}): Readable {
  return tarOf([...files].map(([name, content]) => ({ name, content })), { pieceBytes: 64 * 1024, onTaken });
}

/** Resolves once `bytes` have come out of `stream` (read in flowing mode). */
function received(stream: Readable, bytes: number, timeoutMs: number): Promise<void> {
  let total = 0;
  return within(
    new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        total += chunk.length;
        if (total >= bytes) {
          stream.off('data', onData);
          resolve();
        }
      };
      stream.on('data', onData);
      stream.once('error', reject);
      stream.once('end', () => reject(new Error(`the stream ended after ${total} bytes`)));
    }),
    timeoutMs,
    `${bytes} bytes of the stream`,
  );
}

/** The error `stream` fails with, within `timeoutMs`; ending without one fails the test. Listens before the abort. */
function failure(stream: Readable, timeoutMs: number): Promise<unknown> {
  return within(
    new Promise<unknown>((resolve, reject) => {
      stream.once('error', resolve);
      stream.once('end', () => reject(new Error('the stream ended without an error')));
      stream.once('close', () => setImmediate(() => reject(new Error(`the stream closed without an error`))));
    }),
    timeoutMs,
    'the stream to fail',
  );
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How many of this process's open file descriptors point below `dir`. */
function openFilesUnder(dir: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`)) count += 1;
    } catch {
      // Closed between the listing and the look.
    }
  }
  return count;
}
