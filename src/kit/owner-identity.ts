import { hostname } from 'node:os';
import { bootId, processAlive, startTicksOf } from './process-identity.js';

/**
 * Who owns something: a process, named by host, boot, pid and the pid's kernel start time, so
 * that a later process can tell an owner that is gone from one that lives. Drivers' owner
 * records (`owner.ts`) and the local Kubernetes server's Docker labels (test/k8s-server) use
 * it. Only Node's own modules here: the local Kubernetes server's package compiles it in.
 */

/** The process that owns a namespace: host name, boot, pid and the pid's kernel start time. */
export interface OwnerIdentity {
  host: string;
  /** `/proc/sys/kernel/random/boot_id`, `''` where unknown. */
  bootId: string;
  pid: number;
  /** Kernel start time of `pid` in clock ticks since boot, so a reused pid is not taken for the owner. */
  startTicks: number;
}

let self: OwnerIdentity | undefined;

/** This process as an owner. */
export function currentOwner(): OwnerIdentity {
  self ??= { host: hostname(), bootId: bootId(), pid: process.pid, startTicks: startTicksOf(process.pid) ?? 0 };
  return self;
}

/** `host/boot/pid/startTicks`: a Lease's holderIdentity, a Docker label value. */
export function formatOwner(owner: OwnerIdentity): string {
  return `${owner.host}/${owner.bootId}/${owner.pid}/${owner.startTicks}`;
}

/** The identity `formatOwner` wrote, or `undefined` for anything else (another holder's text). */
export function parseOwner(text: unknown): OwnerIdentity | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^([^/]+)\/([^/]*)\/(\d+)\/(\d+)$/.exec(text);
  if (match === null) return undefined;
  return { host: match[1] as string, bootId: match[2] as string, pid: Number(match[3]), startTicks: Number(match[4]) };
}

/** An owner on this host in this boot: its process can be looked at. */
export function isLocalOwner(owner: OwnerIdentity): boolean {
  const here = currentOwner();
  return owner.bootId !== '' && owner.host === here.host && owner.bootId === here.bootId;
}

/**
 * True only when the owner is certainly gone: it ran on this host in this boot and its process
 * (that pid with that start time) is dead. An owner elsewhere, or one that cannot be looked
 * at, is never called dead here.
 */
export function localOwnerDead(owner: OwnerIdentity): boolean {
  return isLocalOwner(owner) && !processAlive(owner.pid, owner.startTicks);
}
