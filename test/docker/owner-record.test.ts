import { describe, expect, it } from 'vitest';
import { currentOwner, formatOwner } from '../../src/kit/owner.js';
import { LABELS } from '../../src/labels.js';
import { DOCKER_LABELS } from '../../drivers/docker/naming.js';
import { eventually } from '../support/poll.js';
import { killOnceItSays } from '../support/killed-child.js';
import { docker, openDriver } from './helpers.js';

/**
 * The Docker driver's owner record is one per process per engine (and lease): one heartbeat
 * volume, renewed for every driver of the process, and one mark per namespace that names it.
 * Each test gives its drivers a lease no other test here uses, so that they hold a record of their own.
 */

interface Volume {
  Name: string;
  Labels: Record<string, string>;
}

async function volumesLabelled(...labels: string[]): Promise<Volume[]> {
  const list = await docker.listVolumes({ filters: { label: [`${LABELS.managed}=true`, ...labels] } });
  return (list.Volumes ?? []) as Volume[];
}

/** This process's heartbeats of one lease. */
function heartbeats(leaseSeconds: number): Promise<Volume[]> {
  return volumesLabelled(`${LABELS.role}=owner-heartbeat`, `${LABELS.owner}=${formatOwner(currentOwner())}`, `${LABELS.leaseSeconds}=${leaseSeconds}`);
}

/** Heartbeats of the process `pid` (on this host). */
async function heartbeatsOfPid(pid: number): Promise<Volume[]> {
  return (await volumesLabelled(`${LABELS.role}=owner-heartbeat`)).filter((volume) => volume.Labels[LABELS.owner]?.split('/')[2] === String(pid));
}

/** A process that opens a driver of `namespace`, runs a task in it and is SIGKILLed once it runs; resolves with its pid. */
async function killedOwnerOf(namespace: string): Promise<number> {
  const { pid } = await killOnceItSays('test/reliability/orphan-owner.ts', ['docker', namespace, '{}'], 'running', { timeoutMs: 60_000 });
  return pid;
}

function marksOf(namespace: string): Promise<Volume[]> {
  return volumesLabelled(`${LABELS.role}=owner`, `${LABELS.namespace}=${namespace}`);
}

describe('docker driver: one owner record per process', () => {
  it('drivers of one process share one heartbeat, which each namespace’s mark names, and the last close removes it', async () => {
    const drivers = Array.from({ length: 5 }, () => openDriver({ ownerLeaseSeconds: 601, reapOrphans: false }));
    await Promise.all(drivers.map((driver) => driver.createVolume('data')));
    const [heartbeat, ...more] = await heartbeats(601);
    expect(more).toEqual([]);
    expect(heartbeat?.Labels[LABELS.namespace]).toBeUndefined();
    const key = heartbeat?.Labels[DOCKER_LABELS.ownerHeartbeat];
    for (const driver of drivers) {
      const marks = await marksOf(driver.namespace);
      expect(marks.map((mark) => [mark.Name, mark.Labels[DOCKER_LABELS.ownerHeartbeat]])).toEqual([[`dt-${driver.namespace}_owner-${key}`, key]]);
      // A reaper that reads marks as records of their own (older drivetrains) never finds them stale by age.
      expect(Number(marks[0]?.Labels[LABELS.leaseSeconds]) * 1000).toBeGreaterThan(50 * 365 * 24 * 3600 * 1000);
      expect(marks[0]?.Labels[LABELS.owner]).toBe(formatOwner(currentOwner()));
    }
    await Promise.all(drivers.slice(1).map((driver) => driver.close()));
    expect((await heartbeats(601)).map((volume) => volume.Labels[DOCKER_LABELS.ownerHeartbeat])).toEqual([key]);
    await drivers[0]!.close();
    expect(await heartbeats(601)).toEqual([]);
  });

  it('a namespace shared with a process that was killed is not reaped while this one lives, nor the killed one’s heartbeat while its mark is there', async () => {
    const driver = openDriver({ reapOrphans: false });
    await driver.createVolume('data');
    const killed = await killedOwnerOf(driver.namespace);
    expect(await marksOf(driver.namespace)).toHaveLength(2);
    const reaper = openDriver({ reapOrphans: false });
    expect(await reaper.reapOrphans()).not.toContain(driver.namespace);
    expect(await heartbeatsOfPid(killed)).toHaveLength(1);
    // Once the namespace is gone (its live owner closed it), the killed process's heartbeat names nothing: a reap removes it.
    await driver.close();
    await reaper.reapOrphans();
    expect(await heartbeatsOfPid(killed)).toEqual([]);
  });

  it('a namespace shared with another record keeps its mark: one removed by the other’s close is written again with the next renewal', async () => {
    // Two leases, two records in this process: as two processes sharing the namespace.
    const staying = openDriver({ ownerLeaseSeconds: 3, reapOrphans: false });
    const closing = openDriver({ namespace: staying.namespace, ownerLeaseSeconds: 602, reapOrphans: false });
    await staying.createVolume('data');
    await closing.createVolume('more');
    expect(await marksOf(staying.namespace)).toHaveLength(2);
    const [heartbeat] = await heartbeats(3);
    const key = heartbeat?.Labels[DOCKER_LABELS.ownerHeartbeat];
    // Its close removes everything of the namespace, the other record's mark included.
    await closing.close();
    expect(await marksOf(staying.namespace)).toEqual([]);
    const marks = await eventually(async () => {
      const found = await marksOf(staying.namespace);
      return found.length > 0 && found;
    }, 30_000, 'the mark of the staying record to be written again');
    expect(marks.map((mark) => mark.Labels[DOCKER_LABELS.ownerHeartbeat])).toEqual([key]);
    await staying.close();
    expect(await marksOf(staying.namespace)).toEqual([]);
  });
});
