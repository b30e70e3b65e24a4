import { anySignal, delay } from '../abort.js';
import { ServiceNotReadyError } from '../errors.js';
import { SERVICE_READY_INTERVAL_MS, type ResolvedReadiness, type ResolvedService } from '../services.js';

/** How a driver looks at one of its services while it waits for it. */
export interface ServiceProbe {
  /** Why the service has already ended (`exit code 3`), or `undefined` while it runs. */
  ended(signal: AbortSignal): Promise<string | undefined>;
  /**
   * One readiness check: `true`, or why it failed. `signal` also fires when the service's
   * timeout passes; a check that throws then is counted as not finished in time.
   */
  check(ready: ResolvedReadiness, signal: AbortSignal): Promise<true | string>;
}

/**
 * Runs the service's readiness check every {@link SERVICE_READY_INTERVAL_MS} until it passes.
 * `ServiceNotReadyError` when the service ends first (`Exited`) or its timeout passes
 * (`Timeout`, with the last check's failure); a service without a check is ready while it runs.
 */
export async function waitUntilServiceReady(service: ResolvedService, probe: ServiceProbe, signal: AbortSignal): Promise<void> {
  const ready = service.ready;
  const timeoutMs = ready?.timeoutMs ?? 0;
  const giveUpAt = Date.now() + timeoutMs;
  let lastFailure = 'not checked yet';
  for (;;) {
    signal.throwIfAborted();
    const ended = await probe.ended(signal);
    if (ended !== undefined) throw new ServiceNotReadyError(service.name, 'Exited', ended, timeoutMs);
    if (ready === undefined) return;
    const bounded = anySignal([signal], Math.max(1, giveUpAt - Date.now()));
    try {
      const outcome = await probe.check(ready, bounded);
      signal.throwIfAborted();
      if (outcome === true) return;
      lastFailure = outcome;
    } catch (error) {
      signal.throwIfAborted();
      if (!bounded.aborted) throw error;
      lastFailure = 'the last check did not finish in time';
    }
    if (Date.now() >= giveUpAt) throw new ServiceNotReadyError(service.name, 'Timeout', lastFailure, timeoutMs);
    await delay(Math.min(SERVICE_READY_INTERVAL_MS, Math.max(0, giveUpAt - Date.now())), signal);
  }
}
