import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../src/errors.js';
import type { Owner } from './filesystem.js';

/** True when the driver may run tasks as another user (it runs as root). */
export function canSwitchUser(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The uid/gid a task runs as. Only root can switch users, so without root the
 * setting has no effect (`capabilities.enforces.user` is false). Names and a
 * missing gid are looked up in the host's `/etc/passwd` and `/etc/group`, the
 * native driver's stand-in for an image; a numeric uid unknown there gets gid 0,
 * as on Docker.
 */
export function resolveOwner(user: string | undefined): Owner | undefined {
  if (user === undefined || !canSwitchUser()) return undefined;
  const [userPart = '', groupPart] = user.split(':');
  const passwd = table('/etc/passwd');
  const entry = /^\d+$/.test(userPart) ? passwd.find((row) => row[2] === userPart) : passwd.find((row) => row[0] === userPart);
  if (entry === undefined && !/^\d+$/.test(userPart)) {
    throw new InvalidInputError('task.user', 'a uid, "uid:gid", or a user name known to the host (/etc/passwd)', user);
  }
  const uid = Number(entry?.[2] ?? userPart);
  let gid = Number(entry?.[3] ?? 0);
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = table('/etc/group').find((row) => row[0] === groupPart);
      if (group === undefined) throw new InvalidInputError('task.user', 'a group name known to the host (/etc/group)', user);
      gid = Number(group[2]);
    }
  }
  return { uid, gid };
}

function table(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}
