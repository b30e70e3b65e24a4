import type Dockerode from 'dockerode';
import { KernelOoms } from './kernel-ooms.js';
import { instanceFilter } from './labels.js';

/** How a container ended, from the engine's `die` event or an inspect. */
export interface ExitInfo {
  id: string;
  exitCode: number;
  oomKilled: boolean;
  /** RFC 3339, when the engine knows it (inspect); else the caller's own record. */
  startedAt?: string;
  finishedAt: string;
  error?: string;
}

const iso = (value: string | undefined): string | undefined => (value && !value.startsWith('0001') ? value.replace(/\.\d+Z$/, 'Z') : undefined);
const seconds = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

export function exitFromInspect(info: Dockerode.ContainerInspectInfo): ExitInfo {
  return {
    id: info.Id,
    exitCode: info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    ...(iso(info.State.StartedAt) ? { startedAt: iso(info.State.StartedAt)! } : {}),
    finishedAt: iso(info.State.FinishedAt) ?? seconds(new Date()),
    ...(info.State.Error ? { error: info.State.Error } : {}),
  };
}

type Waiter = (exit: ExitInfo | undefined) => void;

/**
 * How long a SIGKILLed (exit 137) container with a memory limit may wait for the engine's
 * `oom` event after its `die`: a kubelet sees an exit at its next relist, up to a second later
 * (pkg/kubelet/kubelet.go genericPlegRelistPeriod), and by then the runtime has marked an OOM
 * kill whose event came after the exit (containerd internal/cri/server/events.go sets the
 * reason OOMKilled on a TaskOOM for an exited container too).
 */
const LATE_OOM_MS = 1_000;

/** Ids of containers the engine reported `oom` for, kept this long after their exit. */
const OOM_MEMORY_MS = 60_000;

/**
 * Event-driven exit detection for every container of this server instance: one
 * Docker events stream (filtered by the instance label) resolves the waiters of
 * a container as soon as the engine reports its `die`. Reconnects with `since`
 * so no exit is missed, and re-checks waiters after a reconnect.
 */
export class ExitMonitor {
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Containers the engine reported an OOM kill for. */
  private readonly ooms = new Set<string>();
  /** Exits held back for a late `oom` event, by container id. */
  private readonly held = new Map<string, { exit: ExitInfo; timer: NodeJS.Timeout }>();
  /** The kernel's own reports of OOM kills. */
  private readonly kernel = KernelOoms.acquire();
  private readonly onKernelOom = (id: string) => this.noteOom(id);
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };
  private stopped = false;
  private lastSeen = Math.floor(Date.now() / 1000);
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly docker: Dockerode, private readonly instanceId: string) {
    this.kernel.on('oom', this.onKernelOom);
  }

  async start(): Promise<void> {
    const stream = (await this.docker.getEvents({
      since: this.lastSeen,
      filters: { type: ['container'], event: ['die', 'destroy', 'oom'], label: [instanceFilter(this.instanceId)] },
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    if (this.stopped) return stream.destroy?.();
    this.stream = stream;
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.onEvent(JSON.parse(line));
        } catch {
          // A garbled line is skipped; the waiters it concerned are re-checked on the next reconnect.
        }
      }
    });
    const reconnect = () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.scheduleReconnect();
    };
    stream.on('end', reconnect);
    stream.on('error', reconnect);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(() => {
      this.start()
        .then(() => this.recheckAll())
        .catch(() => this.scheduleReconnect());
    }, 200);
    this.reconnectTimer.unref();
  }

  private onEvent(event: { id?: string; status?: string; Action?: string; timeNano?: number; time?: number; Actor?: { Attributes?: Record<string, string> } }): void {
    if (event.time) this.lastSeen = event.time;
    const id = event.id;
    const action = event.Action ?? event.status;
    if (id && action === 'oom') return this.noteOom(id);
    if (!id || !this.waiters.has(id)) return;
    // Removed without a `die` seen (never started, or removed while the stream reconnected): it vanished.
    if (action === 'destroy') return this.resolve(id, undefined);
    const exitCode = Number(event.Actor?.Attributes?.exitCode);
    // 137 may be an OOM kill: the inspect tells what the engine knows. Any other code is final as reported.
    if (Number.isNaN(exitCode) || exitCode === 137) return void this.inspectAndResolve(id);
    const finished = event.timeNano ? new Date(Math.floor(event.timeNano / 1e6)) : new Date();
    this.resolve(id, { id, exitCode, oomKilled: this.ooms.has(id) || this.kernel.has(id), finishedAt: seconds(finished) });
  }

  /**
   * The engine or the kernel reported an OOM kill. Docker marks a container OOMKilled only when
   * containerd's OOM event reaches it before the exit; under load it comes after (seen 200 to
   * 800 ms after `die`, State.OOMKilled false for good), or never (a kill before containerd
   * watches the container's cgroup). Both reports are remembered, and an exit held back for
   * one is settled now.
   */
  private noteOom(id: string): void {
    this.ooms.add(id);
    setTimeout(() => this.ooms.delete(id), OOM_MEMORY_MS).unref();
    const held = this.held.get(id);
    if (!held) return;
    clearTimeout(held.timer);
    this.held.delete(id);
    this.resolve(id, { ...held.exit, oomKilled: true });
  }

  /**
   * Resolves an exit read from an inspect: an OOM kill already reported makes it OOMKilled; a
   * SIGKILL (137) of a container with a memory limit that nothing has called an OOM kill yet
   * waits up to {@link LATE_OOM_MS} for a late report.
   */
  private settle(exit: ExitInfo, memoryLimited: boolean): void {
    if (exit.oomKilled || this.ooms.has(exit.id) || this.kernel.has(exit.id)) return this.resolve(exit.id, { ...exit, oomKilled: true });
    if (exit.exitCode !== 137 || !memoryLimited) return this.resolve(exit.id, exit);
    if (this.kernel.hasNow(exit.id)) return this.resolve(exit.id, { ...exit, oomKilled: true });
    if (this.held.has(exit.id)) return;
    const timer = setTimeout(() => {
      this.held.delete(exit.id);
      this.resolve(exit.id, exit);
    }, LATE_OOM_MS);
    timer.unref();
    this.held.set(exit.id, { exit, timer });
  }

  private resolve(id: string, exit: ExitInfo | undefined): void {
    const waiters = this.waiters.get(id);
    this.waiters.delete(id);
    for (const waiter of waiters ?? []) waiter(exit);
  }

  private async inspectAndResolve(id: string): Promise<void> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      // `created` is not an exit: nothing ran yet, so no exit code exists.
      if (info.State.Status === 'exited' || info.State.Status === 'dead') this.settle(exitFromInspect(info), (info.HostConfig.Memory ?? 0) > 0);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) this.resolve(id, undefined);
    }
  }

  private recheckAll(): void {
    for (const id of this.waiters.keys()) void this.inspectAndResolve(id);
  }

  /** Resolves when the container has exited (undefined: it vanished), or 'aborted' when `signal` aborts. */
  waitForExit(id: string, signal: AbortSignal): Promise<ExitInfo | undefined | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const waiter: Waiter = (exit) => {
        signal.removeEventListener('abort', onAbort);
        resolve(exit);
      };
      const onAbort = () => {
        this.waiters.get(id)?.delete(waiter);
        resolve('aborted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(id, set);
      // Registered first, then checked: an exit before registration is seen by the inspect.
      void this.inspectAndResolve(id);
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stream?.destroy?.();
    this.stream = undefined;
    for (const id of [...this.waiters.keys()]) this.waiters.delete(id);
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
    this.kernel.off('oom', this.onKernelOom);
    this.kernel.release();
  }
}
