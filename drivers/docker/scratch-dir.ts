import { engineCall, type DockerContext } from './context.js';

/**
 * Makes the per-task scratch directory world-writable (mode 1777, like /tmp) in a
 * created, not yet started container, so a task running as any user can write its
 * working directory. Docker would create it owned by root with mode 755 at start;
 * a tmpfs does not help, because the engine applies the working directory's mode to
 * the mount. The directory is written into the container's own layer with the
 * archive API: one small request, no process.
 */
export async function prepareScratchDir(ctx: DockerContext, engineId: string, workDir: string): Promise<void> {
  // Kept off the common path: the archive API mounts the container's file system, which costs tens of ms.
  const archive = await scratchDirTar(workDir);
  await engineCall(ctx, { kind: 'start' }, () => ctx.docker().getContainer(engineId).putArchive(archive, { path: '/' }), { idempotent: true });
}

/** A tar of `workDir` and each of its parents as directories with mode 1777. */
async function scratchDirTar(workDir: string): Promise<Buffer> {
  // Loaded here: only a task of a non-root user needs it.
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const segments = workDir.split('/').filter((s) => s !== '');
  for (let i = 1; i <= segments.length; i++) {
    pack.entry({ name: `${segments.slice(0, i).join('/')}/`, type: 'directory', mode: 0o1777, uid: 0, gid: 0, mtime: new Date() });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Whether a task's default scratch directory needs {@link prepareScratchDir}: only when
 * the task does not run as root (its `user`, else the image's configured user).
 */
export async function needsWritableScratchDir(ctx: DockerContext, image: string, user: string | undefined, signal: AbortSignal): Promise<boolean> {
  const effective = user ?? (await ctx.images.userOf(image, signal));
  return !isRoot(effective);
}

function isRoot(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === '' || name === '0' || name === 'root';
}
