import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toDnsLabel } from '../../src/names.js';
import type { ContainerStatus } from '../../src/types.js';
import type { ResolvedMount } from '../../src/validate.js';

/** Where a namespace keeps its things on the host. */
export interface NamespaceLayout {
  /** `<root>/<namespace>` */
  dir: string;
  /** `<root>/<namespace>/tasks` */
  tasks: string;
  /** `<root>/<namespace>/sandboxes` */
  sandboxes: string;
  /** `<root>/<namespace>/volumes` */
  volumes: string;
}

export function namespaceLayout(root: string, namespace: string): NamespaceLayout {
  const dir = join(root, namespace);
  return { dir, tasks: join(dir, 'tasks'), sandboxes: join(dir, 'sandboxes'), volumes: join(dir, 'volumes') };
}

/** The host directory of one task (or sandbox) ID. */
export function taskDir(parent: string, id: string): string {
  return join(parent, toDnsLabel(id));
}

/** What `task.json` holds: enough for a fresh driver instance to find and follow the task. */
export interface TaskRecord {
  /** The raw, unsanitised task ID. */
  id: string;
  namespace: string;
  /** Process ID of the task's process (also its process-group ID); absent when it never started. */
  pid?: number;
  /** Kernel start time of `pid` (clock ticks since boot), to tell it from a later process that reuses the pid. */
  pidStartTicks?: number;
  /**
   * The relay processes copying the task's stdout and stderr pipes into their files (with
   * their kernel start times); the output is complete once they are gone.
   */
  relays?: ReadonlyArray<{ pid: number; startTicks?: number }>;
  /** The Node process that started the task and records its end, with its kernel start time. */
  ownerPid?: number;
  ownerStartTicks?: number;
  /** The container-style working directory. */
  workDir: string;
  mounts: readonly ResolvedMount[];
  /** The task's labels plus drivetrain's own (`drivetrain.dev/…`), kept for tools that list tasks. */
  labels: Readonly<Record<string, string>>;
  status: ContainerStatus;
  /** The task runs on a terminal: its output is the terminal's stream, all in `stdout`. */
  tty?: boolean;
  /** ISO 8601 times. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export const RECORD_FILE = 'task.json';

/** Writes the record atomically (temp file + rename), so readers never see half a file. */
export async function writeRecord(dir: string, record: TaskRecord): Promise<void> {
  const temp = join(dir, `.${RECORD_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, JSON.stringify(record, null, 2));
  await rename(temp, join(dir, RECORD_FILE));
}

/** The record, or `undefined` when there is none (yet, or any more). */
export async function readRecord(dir: string): Promise<TaskRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, RECORD_FILE), 'utf8')) as TaskRecord;
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

/** True when `error` is a Node system error with that `code`. */
export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
