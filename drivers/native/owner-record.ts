import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { currentOwner, formatOwner, parseOwner, type NamespaceOwners, type OwnerRecord } from '../../src/kit/owner.js';

/**
 * The native driver's owner records: one file per owning process,
 * `<root>/<namespace>/owner/<pid>-<startTicks>.json`, whose modification time is the
 * heartbeat (touched every third of the lease). A file is the cheapest record that a reaper
 * on another host sharing the root (a network file system) can still judge by its age.
 */

const OWNER_DIR = 'owner';

interface OwnerFile {
  owner: string;
  leaseSeconds: number;
}

/** Writes this process's record into the namespace's directory; returns its path. */
export function writeOwnerRecord(namespaceDir: string, leaseSeconds: number): string {
  const owner = currentOwner();
  const dir = join(namespaceDir, OWNER_DIR);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${owner.pid}-${owner.startTicks}.json`);
  writeFileSync(path, JSON.stringify({ owner: formatOwner(owner), leaseSeconds } satisfies OwnerFile));
  return path;
}

/** Renews the record's heartbeat; a record removed meanwhile (the namespace was closed) is left alone. */
export async function touchOwnerRecord(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
}

/** Every namespace directory under `root` with the owner records it holds. */
export async function findNamespaceOwners(root: string): Promise<NamespaceOwners[]> {
  const namespaces = await readdir(root, { withFileTypes: true }).catch(() => []);
  return Promise.all(
    namespaces
      .filter((entry) => entry.isDirectory())
      .map(async (entry): Promise<NamespaceOwners> => ({ namespace: entry.name, records: await readRecords(join(root, entry.name, OWNER_DIR)) })),
  );
}

async function readRecords(dir: string): Promise<OwnerRecord[]> {
  const names = await readdir(dir).catch(() => []);
  const records = await Promise.all(
    names.filter((name) => name.endsWith('.json')).map(async (name): Promise<OwnerRecord | undefined> => {
      try {
        const [text, info] = await Promise.all([readFile(join(dir, name), 'utf8'), stat(join(dir, name))]);
        const file = JSON.parse(text) as Partial<OwnerFile>;
        const leaseSeconds = typeof file.leaseSeconds === 'number' && file.leaseSeconds > 0 ? file.leaseSeconds : undefined;
        // A record half-written or unreadable names no owner: it holds for the default lease from its time.
        return { owner: parseOwner(file.owner), renewedAtMs: info.mtimeMs, leaseMs: (leaseSeconds ?? 60) * 1000 };
      } catch {
        return undefined;
      }
    }),
  );
  return records.filter((record): record is OwnerRecord => record !== undefined);
}
