import { createHash } from 'node:crypto';

/**
 * Name sanitising shared by every driver. Pure functions: the same input always
 * gives the same name, and whenever anything was changed or cut a short hash of the
 * original is appended, so two different inputs never map to one name (IDs that
 * differ only in case included).
 */

const HASH_LENGTH = 10;
/**
 * Ends like a hashed name. Such input is hashed even when it is valid as it is: otherwise
 * an ID spelled as another ID's hashed name (`a-<hash of "A">`) would get that very name.
 */
const LOOKS_HASHED = new RegExp(`-[0-9a-f]{${HASH_LENGTH}}$`);

/** First {@link HASH_LENGTH} hex characters of the SHA-256 of `value`. */
export function shortHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

/**
 * `raw` as a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most `maxLength`
 * characters): lower-cased, other characters replaced by `-`. Unchanged input is
 * returned as is; changed or cut input gets `-<hash of raw>`, and so does input that
 * already ends in `-` and ten hex digits. The result never contains `--`.
 */
export function toDnsLabel(raw: string, maxLength = 63): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (cleaned === raw && raw.length > 0 && raw.length <= maxLength && !LOOKS_HASHED.test(raw)) return raw;
  return withHash(cleaned, raw, maxLength, /-+$/);
}

/** Whether `raw` ends like a hashed name (`-` and ten hex digits): such input is hashed even when valid as it is. */
export function looksHashed(raw: string): boolean {
  return LOOKS_HASHED.test(raw);
}

/**
 * `cleaned` (what is left of `raw` once sanitised), cut to fit `maxLength` with `-<hash of raw>`
 * appended; `trailing` is what may not end the cut part.
 */
export function withHash(cleaned: string, raw: string, maxLength: number, trailing: RegExp): string {
  const hash = shortHash(raw);
  const room = maxLength - HASH_LENGTH - 1;
  const head = cleaned.slice(0, Math.max(0, room)).replace(trailing, '');
  return head === '' ? `x-${hash}`.slice(0, maxLength) : `${head}-${hash}`;
}

/** The directory name of a task's default scratch directory: the same on every driver. */
export function taskDirName(taskId: string): string {
  return toDnsLabel(taskId, 63);
}

/** The root under which default per-task scratch directories live inside containers. */
export const SCRATCH_ROOT = '/tmp/drivetrain';

/** A task's default working directory inside a container: `/tmp/drivetrain/<taskDirName(id)>`. */
export function defaultWorkDir(taskId: string): string {
  return `${SCRATCH_ROOT}/${taskDirName(taskId)}`;
}
