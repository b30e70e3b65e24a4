import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDockerDriver } from '../../drivers/docker/index.js';
import type { Driver } from '../../src/types.js';
import { benchNamespace } from './docker-baselines.js';
import { inPool } from './p9-many-drivers.js';
import { targetOf, type BenchRow } from './row.js';
import { summarize } from './stats.js';

/** Sizes of P9d. */
export interface P9dOptions {
  /** Docker drivers in the process, each its own namespace. @default 100 */
  drivers?: number;
  /** Their `ownerLeaseSeconds`: short, so that the window holds several renewals. @default 3 */
  leaseSeconds?: number;
  /** Renewal periods (a third of the lease each) the idle drivers are counted over. @default 6 */
  periods?: number;
}

/** Engine requests of a set of namespaces, by operation (volume and container names shortened). */
class EngineCalls {
  private readonly counts = new Map<string, number>();
  private readonly listen = (message: unknown): void => {
    const event = message as { namespace: string; operation: string };
    if (!this.namespaces.has(event.namespace)) return;
    const operation = event.operation.replace(/^(DELETE \/volumes)\/.*$/, '$1/{name}').replace(/^(\w+ \/containers)\/(?!json\b)[^/]+/, '$1/{id}');
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  };

  constructor(private readonly namespaces: ReadonlySet<string>) {
    subscribe('drivetrain:engine:request', this.listen);
  }

  /** The calls since the last take, then counting starts again from zero. */
  take(): { total: number; breakdown: string } {
    const entries = [...this.counts].sort(([a], [b]) => a.localeCompare(b));
    this.counts.clear();
    return { total: entries.reduce((sum, [, n]) => sum + n, 0), breakdown: entries.map(([operation, n]) => `${operation} ${n}`).join(', ') || 'none' };
  }

  stop(): void {
    unsubscribe('drivetrain:engine:request', this.listen);
  }
}

/** Opens `count` drivers that each make one volume, counts them idle over `periods`, closes them. */
async function ownerCalls(count: number, leaseSeconds: number, periods: number): Promise<{ open: ReturnType<EngineCalls['take']>; idle: ReturnType<EngineCalls['take']>; close: ReturnType<EngineCalls['take']> }> {
  const namespaces = Array.from({ length: count }, () => benchNamespace('p9d'));
  const calls = new EngineCalls(new Set(namespaces));
  // The background reap of orphans (a list of the engine's, once per process) is not the owner records'.
  const drivers: Driver[] = namespaces.map((namespace) => createDockerDriver({ namespace, ownerLeaseSeconds: leaseSeconds, reapOrphans: false }));
  try {
    // Each driver's first call that makes something writes its owner record.
    await inPool(count, 50, (i) => (drivers[i] as Driver).createVolume('data').then(() => undefined));
    const open = calls.take();
    // Renewals come every period from each record's first write: a window that starts half a
    // period after the opening holds `periods` of them whatever the phase, within half a period of delay.
    const periodMs = (leaseSeconds * 1000) / 3;
    await sleep(periodMs / 2);
    calls.take();
    await sleep(periods * periodMs);
    const idle = calls.take();
    await Promise.all(drivers.map((driver) => driver.close()));
    const close = calls.take();
    return { open, idle, close };
  } finally {
    await Promise.all(drivers.map((driver) => driver.close().catch(() => {})));
    calls.stop();
  }
}

/**
 * P9d — the owner records of many Docker drivers in one process: `drivers` drivers, each of
 * its own namespace, make one volume each (which writes the owner record), then stay idle for
 * `periods` renewal periods (a third of a short lease each), then close; against one driver
 * doing the same. Counted: the engine calls per renewal period while idle (owner records
 * only: nothing else runs), and those of opening and closing per driver, in the note.
 */
export async function measureP9Docker(options: P9dOptions = {}): Promise<BenchRow[]> {
  const count = options.drivers ?? 100;
  const leaseSeconds = options.leaseSeconds ?? 3;
  const periods = options.periods ?? 6;
  const one = await ownerCalls(1, leaseSeconds, periods);
  const many = await ownerCalls(count, leaseSeconds, periods);
  const subject = summarize([many.idle.total / periods]);
  const baseline = summarize([one.idle.total / periods]);
  const perDriver = (calls: { total: number }) => (calls.total / count).toFixed(2);
  return [
    {
      id: 'P9d',
      scale: `${count} drivers, lease ${leaseSeconds} s, ${periods} renewal periods`,
      unit: 'calls/renewal',
      subject: { label: `${count} Docker drivers in one process, idle`, value: subject },
      baseline: { label: 'one driver, idle', value: baseline },
      ratio: subject.median / baseline.median,
      target: targetOf('≤ 1.1×', subject.median / baseline.median, 1.1, 'max'),
      note:
        `idle over ${periods} periods: ${count} drivers: ${many.idle.breakdown}; one driver: ${one.idle.breakdown}. ` +
        `Opening (a volume each): ${many.open.breakdown} (${perDriver(many.open)} per driver). Closing: ${many.close.breakdown} (${perDriver(many.close)} per driver)`,
    },
  ];
}
