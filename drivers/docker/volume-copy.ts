import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { abortReason } from '../../src/abort.js';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';
import { engineCall, type DockerContext } from './context.js';
import { baseLabels, volumeName } from './naming.js';
import { removeContainerQuietly } from './removal.js';
import { createWithImage } from './start.js';
import { appendEntries, confinedEntries, confinedName, packToReadable } from './tar-rewrite.js';
import { destroyQuietly } from '../../src/tar-input.js';

/** Where helpers mount the volume. */
const MOUNT = '/volume';

/**
 * Volume copies go through a helper container that is created and never started:
 * the engine mounts a stopped container's volumes for its archive API, so no process,
 * no start and no wait are needed. The helper is labelled (role `helper`), so `close`
 * reaps one left by a crash, and it is removed once its transfer ends or fails.
 *
 * An abort fails the call (or the stream handed out) with the signal's own reason, at
 * once: not the socket's reset nor an engine error wrapping the reason.
 */

/**
 * Extracts the tar stream `source` into the volume's root. Entries escaping the root are
 * rejected. On failure or abort `source` is destroyed; the engine keeps what it had
 * extracted before the upload was cut (complete entries, the last one perhaps truncated).
 */
export async function copyToVolume(ctx: DockerContext, volume: string, source: Readable, signal: AbortSignal): Promise<void> {
  let helper: string;
  try {
    helper = await createHelper(ctx, volume, false, signal);
  } catch (error) {
    destroyQuietly(source);
    throw error;
  }
  const checked = tar.pack();
  let rejected: unknown;
  const checking = appendEntries(source, checked, confinedEntries()).then(
    () => checked.finalize(),
    (error: unknown) => {
      rejected = error;
      checked.destroy(error as Error);
    },
  );
  try {
    const body = packToReadable(checked);
    // A failing source is reported through `checking` (`rejected`); the pack and body only stop with it.
    checked.on('error', () => {});
    body.on('error', () => {});
    try {
      await engineCall(ctx, { kind: 'other', what: 'copy into volume' }, () => ctx.docker().getContainer(helper).putArchive(body, { path: MOUNT, abortSignal: signal }), { signal });
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw rejected ?? error;
    }
    await checking;
    if (rejected !== undefined) throw rejected;
  } catch (error) {
    // The upload stopped: the source is read no further, and the entry copier, stuck on a
    // pack nobody reads, is released with it.
    destroyQuietly(source);
    checked.destroy();
    throw error;
  } finally {
    await removeContainerQuietly(ctx, helper);
  }
}

/** The whole volume as a tar stream, entries relative to the root (`./`, `./a`, `./sub/b`). */
export async function copyFromVolume(ctx: DockerContext, volume: string, signal: AbortSignal): Promise<Readable> {
  const helper = await createHelper(ctx, volume, true, signal);
  try {
    // `<mount>/.` makes the engine name entries relative to the mount itself.
    const archive = await getArchive(ctx, helper, `${MOUNT}/.`, signal);
    return removeHelperWhenDone(ctx, helper, archive, signal);
  } catch (error) {
    await removeContainerQuietly(ctx, helper);
    throw error;
  }
}

/** A tar of just `paths` (relative to the volume root); a missing path rejects with `NotFoundError` before anything streams. */
export async function readFilesFromVolume(ctx: DockerContext, volume: string, paths: readonly string[], signal: AbortSignal): Promise<Readable> {
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidInputError('paths', 'a non-empty array of paths relative to the volume root', paths);
  const wanted = paths.map((p, i) => {
    if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) throw new InvalidInputError(`paths[${i}]`, 'a non-empty path relative to the volume root', p);
    const name = confinedName(p.replace(/^\/+/, ''), `paths[${i}]`);
    if (name === '.') throw new InvalidInputError(`paths[${i}]`, 'a file or directory inside the volume (use copyFromVolume for all of it)', p);
    return name.replace(/\/+$/, '');
  });
  const helper = await createHelper(ctx, volume, true, signal);
  try {
    if (signal.aborted) throw abortReason(signal);
    for (const path of wanted) {
      await engineCall(ctx, { kind: 'other', what: `path "${path}" in volume "${volume}"` }, () => ctx.docker().getContainer(helper).infoArchive({ path: `${MOUNT}/${path}`, abortSignal: signal }), { signal, idempotent: true });
    }
  } catch (error) {
    await removeContainerQuietly(ctx, helper);
    if (signal.aborted) throw abortReason(signal);
    if (error instanceof NotFoundError) throw new NotFoundError(`a requested path does not exist in volume "${volume}": ${error.message}`, { cause: error });
    throw error;
  }
  const pack = tar.pack();
  void (async () => {
    for (const path of wanted) {
      // The engine names entries after the path's last segment; put back the directories above it.
      const parent = posix.dirname(path);
      const archive = await getArchive(ctx, helper, `${MOUNT}/${path}`, signal);
      await appendEntries(archive, pack, (header) => ({ ...header, name: parent === '.' ? header.name : `${parent}/${header.name}` }));
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return removeHelperWhenDone(ctx, helper, packToReadable(pack), signal);
}

async function getArchive(ctx: DockerContext, helper: string, path: string, signal: AbortSignal): Promise<Readable> {
  const stream = await engineCall(ctx, { kind: 'other', what: `path ${path}` }, () => ctx.docker().getContainer(helper).getArchive({ path, abortSignal: signal }), { signal, idempotent: true });
  return stream as Readable;
}

/**
 * Passes `source` through and removes the helper when the transfer is over: before
 * the reader sees the end (so a finished read leaves nothing behind), or at once
 * when it fails, the signal aborts (the reader gets the signal's reason, whether or not
 * it is still reading), or the reader destroys the stream early.
 */
function removeHelperWhenDone(ctx: DockerContext, helper: string, source: Readable, signal: AbortSignal): Readable {
  const out = new PassThrough();
  let removal: Promise<void> | undefined;
  const remove = (): Promise<void> => (removal ??= removeContainerQuietly(ctx, helper));
  const onAbort = (): void => {
    out.destroy(abortReason(signal));
  };
  source.on('error', (error) => {
    void remove();
    // An aborted request surfaces as a socket reset: the caller gets the signal's reason instead.
    out.destroy(signal.aborted ? abortReason(signal) : error);
  });
  source.once('end', () => {
    void remove().then(() => out.end());
  });
  out.on('close', () => {
    signal.removeEventListener('abort', onAbort);
    source.destroy();
    void remove();
  });
  source.pipe(out, { end: false });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return out;
}

/** Creates (never starts) a helper container with the volume mounted; the volume must exist in this namespace. */
async function createHelper(ctx: DockerContext, volume: string, readOnly: boolean, signal: AbortSignal): Promise<string> {
  const dockerName = volumeName(ctx.namespace, volume);
  const info = await engineCall(ctx, { kind: 'volume', name: dockerName }, (): Promise<{ Labels?: Record<string, string> | null }> => ctx.docker().getVolume(dockerName).inspect({ abortSignal: signal } as never) as never, { signal, idempotent: true });
  if (info.Labels?.[LABELS.namespace] !== ctx.namespace) throw new NotFoundError(`volume "${volume}" does not exist in namespace "${ctx.namespace}"`);
  const image = ctx.options.helperImage;
  return createWithImage(
    ctx,
    {
      name: `dt-${ctx.namespace}_helper-${randomBytes(6).toString('hex')}`,
      Image: image,
      Entrypoint: ['true'],
      Cmd: [],
      Labels: { ...baseLabels(ctx.namespace, 'helper'), [LABELS.volume]: volume },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: dockerName, Target: MOUNT, ReadOnly: readOnly }] },
    },
    image,
    signal,
  );
}
