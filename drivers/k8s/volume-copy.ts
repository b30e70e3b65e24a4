import { randomBytes } from 'node:crypto';
import { abortReason, anySignal } from '../../src/abort.js';
import { PassThrough, type Readable } from 'node:stream';
import { EngineError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { volumeNameOf } from '../../src/kit/volumes.js';
import type { VolumeRef } from '../../src/types.js';
import type { K8sContext } from './context.js';
import { helperPodName } from './naming.js';
import { buildHelperPod, HELPER_CONTAINER } from './pod-spec.js';
import { waitForStart } from './start-wait.js';
import { execInPod } from './remote.js';
import { confineTar } from './tar-confine.js';
import { normaliseTarNames } from './tar-names.js';
import { removePod } from './container.js';
import { ensureVolume } from './volumes.js';

/**
 * A volume's data (see volumes.ts for the claims) is reached through a short-lived labelled
 * helper pod that mounts the claim at /data and runs `tar` over exec; the helper is removed
 * after every operation, also on error and abort.
 */

const DATA = '/data';

/** Runs `work` with a running helper pod that mounts the volume at /data; the helper is always removed. */
async function withHelper<T>(ctx: K8sContext, volume: string, readOnly: boolean, signal: AbortSignal | undefined, work: (pod: string) => Promise<T>): Promise<T> {
  await ensureVolume(ctx, volume, undefined, signal);
  const name = helperPodName(ctx.options.namespace, randomBytes(4).toString('hex'));
  const pod = buildHelperPod(name, volume, { path: DATA, readOnly }, ctx.options);
  try {
    ctx.made.note('pods');
    await ctx.call(`create helper pod "${name}"`, () => ctx.core.createNamespacedPod({ namespace: ctx.ns, body: pod }), signal);
    await waitForStart(ctx, { pod: name, image: ctx.options.helperImage }, signal);
    return await work(name);
  } finally {
    await removePod(ctx, name).catch(() => {});
  }
}

/**
 * Extracts into a staging directory inside the volume, then merges it into the root only
 * when the archive's completion entry arrived (see `confineTar`); the staging directory is
 * removed either way. `$0` is the staging directory, `$1` the completion entry's name.
 */
const EXTRACT_SCRIPT = [
  'trap \'rm -rf "$0"\' EXIT',
  'mkdir "$0" || exit 1',
  'tar -x -f - -C "$0" || exit 1',
  '[ -f "$0/$1" ] || { echo "the archive was cut short" >&2; exit 1; }',
  'rm -f "$0/$1"',
  `tar -c -f - -C "$0" . | tar -x -f - -C ${DATA}`,
].join('\n');

/** Extracts a tar stream into the volume's root; an entry escaping it is refused before anything is written. */
export async function copyToVolume(ctx: K8sContext, ref: VolumeRef, archive: Readable, signal?: AbortSignal): Promise<void> {
  const volume = volumeNameOf(ref);
  const id = randomBytes(6).toString('hex');
  const confinedTar = confineTar(archive, `.drivetrain-complete-${id}`);
  // A refused entry stops the exec at once: nothing reaches the volume root.
  const refusal = new AbortController();
  confinedTar.onRefused((error) => refusal.abort(error));
  try {
    await withHelper(ctx, volume, false, anySignal([signal, refusal.signal]), async (pod) => {
      const stderr = new CollectText();
      const command = ['sh', '-c', EXTRACT_SCRIPT, `${DATA}/.drivetrain-incoming-${id}`, `.drivetrain-complete-${id}`];
      const status = await execInPod(ctx, { namespace: ctx.ns, pod, container: HELPER_CONTAINER }, command, { stdin: confinedTar.stream, stderr, signal: anySignal([signal, refusal.signal]) });
      if (status.exitCode !== 0) throw new EngineError(`extracting into volume "${volume}" failed (${status.reason ?? `exit ${status.exitCode}`}): ${stderr.text().trim()}`, undefined);
    });
  } catch (error) {
    if (refusal.signal.aborted && signal?.aborted !== true) throw refusal.signal.reason;
    throw error;
  } finally {
    confinedTar.stream.destroy();
  }
}

/**
 * A tar stream of `paths` (or of the whole volume), entries relative to the volume root.
 * The helper stays up until the stream is read or destroyed. When `signal` aborts after
 * the stream was handed out, the stream fails at once with its reason (read or not); the
 * exec is cut and the helper removed behind it.
 */
export async function readFromVolume(ctx: K8sContext, ref: VolumeRef, paths: readonly string[] | undefined, signal?: AbortSignal): Promise<Readable> {
  const volume = volumeNameOf(ref);
  const relative = (paths ?? []).map((path, i) => checkRelativePath(path, `paths[${i}]`));
  if (paths !== undefined && relative.length === 0) throw new InvalidInputError('paths', 'a non-empty array of paths relative to the volume root', paths);
  const output = new PassThrough();
  // Fires once the reader is gone (stream ended, failed, aborted or destroyed): a `tar` nobody
  // reads would block on its full pipe and keep the helper up.
  const readerGone = new AbortController();
  const onAbort = (): void => {
    output.destroy(abortReason(signal as AbortSignal));
  };
  output.once('close', () => {
    signal?.removeEventListener('abort', onAbort);
    readerGone.abort();
  });
  const execSignal = anySignal([signal, readerGone.signal]);
  let ready: (() => void) | undefined;
  let handedOut = false;
  let failed: ((error: unknown) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  void withHelper(ctx, volume, true, signal, async (pod) => {
    const target = { namespace: ctx.ns, pod, container: HELPER_CONTAINER };
    if (relative.length > 0) {
      // Checked first, so a missing path rejects the call instead of truncating the stream.
      const missing = new CollectText();
      const check = await execInPod(ctx, target, ['sh', '-c', 'cd "$0" || exit 3; for p; do [ -e "$p" ] || [ -L "$p" ] || { printf "%s\\n" "$p"; exit 44; }; done', DATA, ...relative], { stdout: missing, signal });
      if (check.exitCode === 44) throw new NotFoundError(`volume "${volume}" has no "${missing.text().trim()}"`);
      if (check.exitCode !== 0) throw new EngineError(`checking paths in volume "${volume}" failed (${check.reason ?? `exit ${check.exitCode}`})`, undefined);
    }
    if (signal?.aborted) throw abortReason(signal);
    handedOut = true;
    signal?.addEventListener('abort', onAbort, { once: true });
    ready?.();
    const raw = new PassThrough();
    const normalised = normaliseTarNames(raw);
    normalised.on('error', (error) => output.destroy(error));
    normalised.pipe(output);
    const stderr = new CollectText();
    const members = relative.length === 0 ? ['.'] : relative.map((path) => `./${path}`);
    const status = await execInPod(ctx, target, ['tar', '-c', '-f', '-', '-C', DATA, ...members], { stdout: raw, stderr, signal: execSignal });
    if (status.exitCode !== 0) throw new EngineError(`reading volume "${volume}" failed (${status.reason ?? `exit ${status.exitCode}`}): ${stderr.text().trim()}`, undefined);
    raw.end();
    await new Promise<void>((resolve) => {
      output.on('close', resolve);
      output.on('end', resolve);
      output.on('error', () => resolve());
    });
  }).catch((error: unknown) => {
    failed?.(error);
    // Before the stream was handed out nobody listens to it: the error goes to the caller's promise.
    if (handedOut) output.destroy(signal?.aborted === true ? abortReason(signal) : (error as Error));
    else output.destroy();
  });
  await started;
  return output;
}

function checkRelativePath(path: unknown, field: string): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0') || path.split('/').includes('..')) {
    throw new InvalidInputError(field, 'a path relative to the volume root without ".." segments', path);
  }
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed === '.') throw new InvalidInputError(field, 'a file or directory inside the volume', path);
  return trimmed;
}

class CollectText extends PassThrough {
  private readonly chunks: Buffer[] = [];
  constructor() {
    super();
    this.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

