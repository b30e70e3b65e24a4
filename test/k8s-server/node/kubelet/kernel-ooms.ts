import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants, openSync, readSync } from 'node:fs';

/** Container ids remembered after their OOM kill, at most. */
const REMEMBERED = 4096;
const CONTAINER_ID = /[0-9a-f]{64}/;

/**
 * OOM kills as the kernel reports them in its log (`oom-kill:constraint=…,task_memcg=<cgroup>,…`
 * on /dev/kmsg), by the container id in the killed task's cgroup: how cAdvisor's oomparser,
 * behind the kubelet's OOM watcher (pkg/kubelet/oom/oom_watcher_linux.go), learns of them. The
 * kernel writes the line while it kills, before the process is gone, so unlike the engine's
 * OOM event (which containerd may send after the exit, or never for a kill that comes before
 * its watcher is set up) it is there for every OOM kill the kernel reports: the kernel reports
 * at most 10 in 5 s (mm/oom_kill.c, oom_kill_process: dump_header, which logs the `oom-kill:`
 * line, runs under __ratelimit(&oom_rs)); a kill past that is known only from the engine, as
 * for a real kubelet. One reader per process, shared; where /dev/kmsg cannot be read it
 * reports nothing.
 */
export class KernelOoms extends EventEmitter {
  private static instance: KernelOoms | undefined;
  private static users = 0;
  private readonly killed = new Set<string>();
  private reader: ChildProcess | undefined;

  /** The process's reader; call {@link release} when done. */
  static acquire(): KernelOoms {
    KernelOoms.users += 1;
    KernelOoms.instance ??= new KernelOoms();
    return KernelOoms.instance;
  }

  private constructor() {
    super();
    this.setMaxListeners(0);
    try {
      // A child reads the device: a blocking read in this process would hold a libuv thread.
      const reader = spawn('cat', ['/dev/kmsg'], { stdio: ['ignore', 'pipe', 'ignore'] });
      reader.on('error', () => undefined);
      reader.unref();
      (reader.stdout as NodeJS.ReadableStream & { unref?: () => void }).unref?.();
      let pending = '';
      reader.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.parse(line);
      });
      this.reader = reader;
    } catch {
      // No kernel log here: only the engine's OOM events count.
    }
  }

  private parse(line: string): void {
    const at = line.indexOf('oom-kill:');
    if (at === -1) return;
    const task = /task_memcg=([^,]*)/.exec(line.slice(at))?.[1] ?? '';
    const id = CONTAINER_ID.exec(task)?.[0];
    if (!id || this.killed.has(id)) return;
    if (this.killed.size >= REMEMBERED) this.killed.delete(this.killed.values().next().value as string);
    this.killed.add(id);
    this.emit('oom', id);
  }

  /** Whether the kernel OOM-killed a process of the container (by its full engine id). */
  has(id: string): boolean {
    return this.killed.has(id);
  }

  /**
   * Whether the kernel OOM-killed a process of the container, read from the kernel's log itself
   * now rather than from what the reader has passed on so far. The kernel logs an OOM kill before
   * it sends the SIGKILL (mm/oom_kill.c: dump_header and the `oom-kill:` summary come before
   * __oom_kill_process), so once the container has exited its line is in the log; the reader's
   * copy can lag behind by as long as the machine is busy. Reads the whole ring buffer, one record
   * per read, without blocking (Documentation/ABI/testing/dev-kmsg); for exits that may be an
   * OOM kill only.
   */
  hasNow(id: string): boolean {
    if (this.killed.has(id)) return true;
    let fd: number;
    try {
      fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    const record = Buffer.alloc(8192);
    try {
      for (;;) {
        let size: number;
        try {
          size = readSync(fd, record, 0, record.length, null);
        } catch (error) {
          // EPIPE: records were overwritten while reading, the next read goes on from the oldest.
          if ((error as NodeJS.ErrnoException).code === 'EPIPE') continue;
          break; // EAGAIN: the end of the log.
        }
        if (size <= 0) break;
        this.parse(record.toString('latin1', 0, size));
      }
    } finally {
      closeSync(fd);
    }
    return this.killed.has(id);
  }

  release(): void {
    KernelOoms.users -= 1;
    if (KernelOoms.users > 0) return;
    this.reader?.kill();
    KernelOoms.instance = undefined;
  }
}
