import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../api.js';

/** What the store writes to `<stateDir>/store.json`. */
export interface Snapshot {
  /** The last resourceVersion handed out; the counter continues from it after a reload. */
  resourceVersion: number;
  objects: Array<{ resource: string; object: KObject }>;
}

export function snapshotPath(stateDir: string): string {
  return join(stateDir, 'store.json');
}

/** Reads the snapshot, or undefined when the state dir has none yet. */
export function readSnapshot(stateDir: string): Snapshot | undefined {
  try {
    return JSON.parse(readFileSync(snapshotPath(stateDir), 'utf8')) as Snapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes atomically (temp file + rename) so a crash never leaves half a snapshot. */
export function writeSnapshot(stateDir: string, snapshot: Snapshot): void {
  mkdirSync(stateDir, { recursive: true });
  const target = snapshotPath(stateDir);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(snapshot));
  renameSync(temp, target);
}
