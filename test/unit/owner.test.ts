import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { staleHeartbeats, type Heartbeat } from '../../drivers/docker/owner-record.js';
import { currentOwner, formatOwner, orphanNamespaces, ownerGone, parseOwner, resolveOwnerOptions, type OwnerIdentity, type OwnerRecord } from '../../src/kit/owner.js';

const NOW = 1_000_000_000;
const here = currentOwner();
/** A pid that was used and is gone: a child that ran and was waited for. */
const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;

function record(owner: OwnerIdentity | undefined, ageMs = 0, leaseMs = 60_000): OwnerRecord {
  return { owner, renewedAtMs: NOW - ageMs, leaseMs };
}

describe('owner records', () => {
  it('an identity is written as host/boot/pid/start time and read back; other text names no owner', () => {
    expect(formatOwner(here)).toBe(`${here.host}/${here.bootId}/${process.pid}/${here.startTicks}`);
    expect(parseOwner(formatOwner(here))).toEqual(here);
    for (const text of ['', 'leader-1', 'a/b/c/d', 'host/boot/12', undefined, 42]) expect(parseOwner(text)).toBeUndefined();
  });

  it('an owner on this host is gone when its process is: dead pid, or the pid reused (another start time); alive otherwise', () => {
    expect(ownerGone(record(here), NOW)).toBe(false);
    expect(ownerGone(record({ ...here, pid: Number(deadPid) }), NOW)).toBe(true);
    expect(ownerGone(record({ ...here, startTicks: here.startTicks + 1 }), NOW)).toBe(true);
    // Judged by the lease alone (Kubernetes), a dead process within its lease is not gone yet.
    expect(ownerGone(record({ ...here, pid: Number(deadPid) }), NOW, false)).toBe(false);
  });

  it('an owner on another host (or boot) is gone only when its heartbeat is older than its lease', () => {
    const remote = { ...here, host: `${here.host}-elsewhere`, pid: Number(deadPid) };
    expect(ownerGone(record(remote, 59_000), NOW)).toBe(false);
    expect(ownerGone(record(remote, 61_000), NOW)).toBe(true);
    expect(ownerGone(record({ ...here, bootId: 'another-boot', pid: Number(deadPid) }, 1_000), NOW)).toBe(false);
    expect(ownerGone(record(undefined, 1_000), NOW)).toBe(false);
  });

  it('a namespace is an orphan when every record is gone; never with a live one, never without a record unless asked, never the caller’s own', () => {
    const dead = record({ ...here, pid: Number(deadPid) });
    const found = [
      { namespace: 'orphan', records: [dead] },
      { namespace: 'shared', records: [dead, record(here)] },
      { namespace: 'unowned', records: [] },
      { namespace: 'mine', records: [dead] },
      { namespace: 'Not_A_Namespace', records: [dead] },
    ];
    expect(orphanNamespaces(found, NOW, { except: 'mine' })).toEqual(['orphan']);
    expect(orphanNamespaces(found, NOW, { except: 'mine', unowned: true })).toEqual(['orphan', 'unowned']);
  });

  it('the options: defaults, and a bad value refused naming the option', () => {
    expect(resolveOwnerOptions({})).toEqual({ ownerRecord: true, reapOrphans: true, ownerLeaseSeconds: 60 });
    expect(() => resolveOwnerOptions({ reapOrphans: 'no' as never })).toThrow(expect.objectContaining({ field: 'options.reapOrphans' }));
    for (const ownerLeaseSeconds of [0, 1.5, 2 ** 31]) expect(() => resolveOwnerOptions({ ownerLeaseSeconds })).toThrow(InvalidInputError);
  });
});

describe('Docker heartbeats a reap removes', () => {
  const heartbeat = (key: string, owner: OwnerIdentity, marks: string[]): Heartbeat => ({ key, record: record(owner), volumes: [`dt_owner-${key}-1`], marks: new Set(marks) });
  const dead = { ...here, pid: Number(deadPid) };

  it('those of gone owners whose every marked namespace was reaped now, or that mark none; never a live owner’s, never one a kept mark names', () => {
    const found = [heartbeat('none', dead, []), heartbeat('reaped', dead, ['ci-a', 'ci-b']), heartbeat('kept', dead, ['ci-a', 'ci-live']), heartbeat('live', here, [])];
    expect(staleHeartbeats(found, new Set(['ci-a', 'ci-b']), NOW, true)).toEqual(['dt_owner-none-1', 'dt_owner-reaped-1']);
    // Judged by lease age only, a dead process within its lease is not gone yet.
    expect(staleHeartbeats(found, new Set(['ci-a', 'ci-b']), NOW, false)).toEqual([]);
  });
});
