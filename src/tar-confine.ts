import { posix } from 'node:path';
import { InvalidInputError } from './errors.js';

/** The fields of a tar header that decide where an entry lands. */
export interface TarEntryHeader {
  name: string;
  type?: string | null;
  linkname?: string | null;
}

/** A path's components as written, without empty and `.` ones. */
function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Keeps the entries of one tar archive inside the root it is extracted into, whatever
 * the extracting `tar` does with symlinks: every driver checks its input with one of
 * these, entry by entry, in archive order. Refused (with {@link InvalidInputError}):
 * - names and hard-link targets that are absolute, hold `..`, or pass through a symlink
 *   entry of the same archive (an extractor that follows it would write elsewhere);
 * - an entry (other than a symlink) named as an earlier symlink entry, and hard links to one
 *   (a hard link to a symlink is a copy of its text, which means something else elsewhere);
 * - symlinks whose target is absolute, climbs above the root from the symlink's directory,
 *   or leaves with `..` a directory that is — or later becomes — a symlink of the archive
 *   (`a` → `.` then `c` → `a/..` would point above the root).
 * Symlinks that already exist at the destination are the driver's to handle (the native
 * driver checks the real paths; the others extract in a fresh directory or a container).
 */
export class TarConfinement {
  /** Names of the symlink entries seen so far. */
  private readonly symlinks = new Set<string>();
  /** Directories that an earlier symlink's target leaves with `..`: they may not become symlinks. */
  private readonly leftByDotDot = new Set<string>();

  /** Checks the next entry; returns its normalised name relative to the root (`''` for the root itself). */
  check(header: TarEntryHeader): string {
    const field = `tar entry "${header.name}"`;
    const name = this.confined(header.name, field, 'a path relative to the volume root, without ".." segments');
    const type = header.type ?? 'file';
    if (type === 'symlink') {
      if (name === '' || this.leftByDotDot.has(name)) throw new InvalidInputError(field, 'a symlink that no other symlink of the archive leaves with ".."');
      this.checkSymlinkTarget(name, header.linkname ?? '', field);
      this.symlinks.add(name);
      return name;
    }
    if (this.symlinks.has(name)) throw new InvalidInputError(field, 'an entry not named as a symlink earlier in the same archive');
    if (type === 'link') {
      const target = this.confined(header.linkname ?? '', field, 'a hard link to a file inside the volume, without ".." segments');
      if (target === '' || this.symlinks.has(target)) throw new InvalidInputError(field, 'a hard link to a file (not the root or a symlink) inside the volume', header.linkname);
    }
    return name;
  }

  private confined(path: string, field: string, expected: string): string {
    const parts = components(path);
    if (path.startsWith('/') || path.includes('\0') || parts.includes('..')) throw new InvalidInputError(field, expected, path);
    for (let i = 1; i < parts.length; i += 1) {
      if (this.symlinks.has(parts.slice(0, i).join('/'))) throw new InvalidInputError(field, 'a path that does not pass through a symlink of the same archive', path);
    }
    return parts.join('/');
  }

  /** Walks the target from the symlink's directory as the kernel would. */
  private checkSymlinkTarget(name: string, linkname: string, field: string): void {
    const refuse = (): never => {
      throw new InvalidInputError(field, 'a symlink to a relative path that stays inside the volume, not leaving a symlink with ".."', linkname);
    };
    if (linkname === '' || linkname.startsWith('/') || linkname.includes('\0')) refuse();
    const at = components(posix.dirname(name));
    const left: string[] = [];
    for (const part of components(linkname)) {
      if (part !== '..') {
        at.push(part);
        continue;
      }
      const leaving = at.join('/');
      if (at.length === 0 || this.symlinks.has(leaving)) refuse();
      left.push(leaving);
      at.pop();
    }
    for (const dir of left) this.leftByDotDot.add(dir);
  }
}

/**
 * A parsed header to re-pack, without the source's PAX records: packed again they would
 * follow the checked name and could rename the entry for the extracting `tar` (Go's and GNU
 * tar read `GNU.sparse.name`, which the checking parser ignores). Long names and link targets
 * are written again from the checked fields.
 */
export function withoutPaxRecords<H extends { pax?: unknown }>(header: H): Omit<H, 'pax'> {
  const { pax: _pax, ...rest } = header;
  return rest;
}
