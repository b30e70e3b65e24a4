import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

/** Container ids remembered after their OOM kill, at most. */
const REMEMBERED = 4096;
const CONTAINER_ID = /[0-9a-f]{64}/;

/**
 * OOM kills as the kernel reports them in its log (`oom-kill:constraint=…,task_memcg=<cgroup>,…`
 * on /dev/kmsg), by the container id in the killed task's cgroup: how cAdvisor's oomparser,
 * behind the kubelet's OOM watcher (pkg/kubelet/oom/oom_watcher_linux.go), learns of them. The
 * kernel writes the line while it kills, before the process is gone, so unlike the engine's
 * OOM event (which containerd may send after the exit, or never for a kill that comes before
 * its watcher is set up) it is there for every OOM kill. One reader per process, shared;
 * where /dev/kmsg cannot be read it reports nothing.
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
    if (!id) return;
    if (this.killed.size >= REMEMBERED) this.killed.delete(this.killed.values().next().value as string);
    this.killed.add(id);
    this.emit('oom', id);
  }

  /** Whether the kernel OOM-killed a process of the container (by its full engine id). */
  has(id: string): boolean {
    return this.killed.has(id);
  }

  release(): void {
    KernelOoms.users -= 1;
    if (KernelOoms.users > 0) return;
    this.reader?.kill();
    KernelOoms.instance = undefined;
  }
}
