/**
 * A resettable wake-up signal: `wait(ms)` resolves when `wake()` is called, when
 * `ms` passes, or when `signal` aborts (never rejects). Timers are unref'd.
 */
export class Waker {
  private waiters = new Set<() => void>();

  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}

/**
 * Kubelet back-off: 10 s doubling up to 5 min (`attempt` starts at 1): pkg/kubelet/kubelet.go
 * `backOffPeriod` and `MaxContainerBackOff`, as the image and container back-offs use them.
 */
export function backoffMs(attempt: number, initialMs = 10_000, capMs = 300_000): number {
  return Math.min(capMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
