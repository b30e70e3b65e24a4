import { spawn } from 'node:child_process';
import { closeSync, constants, fchownSync, openSync, readlinkSync } from 'node:fs';
import type { Owner } from './filesystem.js';
import type { ProcessExit } from './process.js';
import { signalGroup } from './process.js';

/** The two ends of a pipe, as file descriptors of this process (close-on-exec). */
export interface PipeEnds {
  read: number;
  write: number;
}

/** A task's pipes, made by one helper shell (see {@link plumb}). */
export interface Plumbing {
  /** Write ends of the pipes whose relay appends to `files[i]`: give them to the task. */
  relayed: number[];
  /** Pipes with both ends here. */
  pipes: PipeEnds[];
  /** The helper's pid, also the process group of the relays. */
  pid: number;
  /** Settles when the helper has ended: every relay has reached the end of its pipe. */
  exit: Promise<ProcessExit>;
}

/**
 * Makes a task's standard streams real (anonymous) pipes: `pipes` of them with both ends here,
 * and one per entry of `files` whose reader is a relay (`cat`) appending it to that file.
 *
 * A program may reopen its standard streams by name (`cat < /dev/stdin`, `echo > /dev/stdout`),
 * which Linux allows for pipes and files but not for sockets (ENXIO). Node has no pipe(2), and
 * its `stdio: 'pipe'` gives children socket pairs; a FIFO will not do either, since reopening a
 * FIFO for reading blocks once its writer has closed, where a pipe's does not (fs/pipe.c
 * `fifo_open`: only pipefs inodes skip the wait). So one helper shell makes the pipes, each the
 * pipe of a background pipeline whose writer is `read`, waiting on this process; this process
 * opens the ends it needs through `/proc/<reader>/fd/<n>` (the same pipe, descriptors of its own)
 * and then lets the `read`s go. A plain pipe's reader is another `read` that never touches the
 * pipe; a relay's reader is `cat`, which runs on in the helper's own process group — not the
 * task's, so that a killed task's last bytes still reach the file — and the helper ends when
 * every relay has. When the task runs as another user, each pipe is given to that user, so that
 * the task may reopen it.
 */
export async function plumb(dir: string, files: readonly string[], pipes: number, owner?: Owner): Promise<Plumbing> {
  // The helper prints each reader's tag and pid, and waits for them all.
  const relay = (i: number): string => `read _ <&3 | cat >>"$${i + 1}" & echo "r${i} $!"`;
  // A plain pipe's reader waits on this process too and never reads the pipe (a reader that did,
  // a cat killed once the ends are open, took the first bytes written before it died); it keeps
  // the pipe as its fd 4, since its `read` takes fd 0 from fd 3.
  const plain = (i: number): string => `read _ <&3 | read _ 4<&0 <&3 & echo "p${i} $!"`;
  const script = ['exec 3<&0', ...files.map((_, i) => relay(i)), ...Array.from({ length: pipes }, (_, i) => plain(i)), 'wait'].join('\n');
  const helper = spawn('sh', ['-c', script, 'sh', ...files], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'ignore'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const exit = new Promise<ProcessExit>((resolve) => helper.once('exit', (code, signal) => resolve({ code, signal })));
  const opened: number[] = [];
  try {
    const pids = await readerPids(helper, files.length + pipes);
    const relayed: number[] = [];
    for (let i = 0; i < files.length; i++) relayed.push(await openEnd(pids, `r${i}`, 0, constants.O_WRONLY, owner, opened));
    const plainPipes: PipeEnds[] = [];
    for (let i = 0; i < pipes; i++) {
      const read = await openEnd(pids, `p${i}`, PLAIN_FD, constants.O_RDONLY, owner, opened);
      plainPipes.push({ read, write: await openEnd(pids, `p${i}`, PLAIN_FD, constants.O_WRONLY, undefined, opened) });
    }
    return { relayed, pipes: plainPipes, pid: helper.pid as number, exit };
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    if (helper.pid !== undefined) signalGroup(helper.pid, 'SIGKILL');
    throw new Error(`the native driver makes a task's pipes with the host's sh and cat, which failed: ${(error as Error).message}`, { cause: error });
  } finally {
    // `read` ends: from now on only the descriptors handed out keep the pipes open.
    helper.stdin?.end();
    helper.stdout?.destroy();
  }
}

/** Closes this process's ends of the pipes (the children keep their own copies). */
export function closePipes(pipes: readonly PipeEnds[], which: 'read' | 'write' | 'both' = 'both'): void {
  for (const pipe of pipes) {
    for (const fd of which === 'both' ? [pipe.read, pipe.write] : [pipe[which]]) closeSync(fd);
  }
}

/** The descriptor of a plain pipe's reader that holds the pipe (see the helper's script). */
const PLAIN_FD = 4;

async function openEnd(pids: Map<string, number>, tag: string, held: number, flags: number, owner: Owner | undefined, opened: number[]): Promise<number> {
  const path = `/proc/${pids.get(tag)}/fd/${held}`;
  // `$!` names the reader as soon as it is forked, maybe before that descriptor is the pipe.
  // The shell's own moves of it (the forked reader holds the pipe at another number, closes
  // it, then makes the redirection) can also make it vanish for an instant: it is the same
  // pipe before and after, so a missing descriptor is waited for like one not yet a pipe.
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    if (attempt >= 1000) throw new Error(`${path} did not become a pipe`);
    if (isPipe(path)) fd = openIfPresent(path, flags);
    if (fd === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  opened.push(fd);
  if (owner !== undefined) fchownSync(fd, owner.uid, owner.gid);
  return fd;
}

function openIfPresent(path: string, flags: number): number | undefined {
  try {
    return openSync(path, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isPipe(path: string): boolean {
  try {
    return readlinkSync(path).startsWith('pipe:');
  } catch {
    return false;
  }
}

/** The readers' pids by tag, as the helper prints them; rejects when it ends or fails first. */
function readerPids(helper: ReturnType<typeof spawn>, count: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    let text = '';
    helper.once('error', reject);
    // Settles after every line the helper printed was seen: its output ended short.
    helper.stdout?.once('end', () => reject(new Error('the helper shell ended before it made its pipes')));
    helper.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const lines = text.split('\n').slice(0, -1);
      if (lines.length < count) return;
      resolve(new Map(lines.map((line) => line.split(' ') as [string, string]).map(([tag, pid]) => [tag, Number(pid)])));
    });
  });
}
