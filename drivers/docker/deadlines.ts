/**
 * Task deadlines (`timeoutMs`). The timer lives in the driver process that started
 * the task, or adopted it while still running; it kills the container with SIGKILL,
 * so the process's exit code is 137 and the status reason `DeadlineExceeded`.
 * Timers are unref'd: they never keep the process alive.
 */
export class Deadlines {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fired = new Set<string>();

  constructor(private readonly kill: (engineId: string) => Promise<void>) {}

  /** Kills `engineId` after `remainingMs` unless a deadline is already armed for it. */
  arm(engineId: string, remainingMs: number): void {
    if (this.timers.has(engineId)) return;
    const timer = setTimeout(() => {
      this.fired.add(engineId);
      this.kill(engineId).catch(() => {});
    }, Math.max(0, remainingMs));
    timer.unref();
    this.timers.set(engineId, timer);
  }

  /** Whether this instance killed `engineId` for its deadline. */
  hasFired(engineId: string): boolean {
    return this.fired.has(engineId);
  }

  /** Forgets a container's deadline (after cleanup). */
  disarm(engineId: string): void {
    clearTimeout(this.timers.get(engineId));
    this.timers.delete(engineId);
    this.fired.delete(engineId);
  }

  /** Forgets every deadline (on close). */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.fired.clear();
  }
}
