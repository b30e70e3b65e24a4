/**
 * A marker that stands for a secret env value, and a search for it through everything an
 * error carries: message, stack, every own property (enumerable or not), `cause` chains,
 * arrays, nested objects and their JSON.
 */

/** Starts every generated secret; no other generated field contains it. */
export const SECRET_MARK = 'S3CR3T-\u2063';

/** True when `value` (or anything reachable from it) contains `secret` (default: the marker). */
export function secretIn(value: unknown, secret = SECRET_MARK, seen = new Set<unknown>()): boolean {
  if (typeof value === 'string') return value.includes(secret);
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof Map) return [...value].some(([k, v]) => secretIn(k, secret, seen) || secretIn(v, secret, seen));
  if (Buffer.isBuffer(value)) return value.includes(secret);
  const keys = new Set<string | symbol>([...Reflect.ownKeys(value), 'message', 'stack', 'cause']);
  for (const key of keys) {
    let inner: unknown;
    try {
      inner = (value as Record<string | symbol, unknown>)[key];
    } catch {
      continue;
    }
    if (secretIn(inner, secret, seen)) return true;
  }
  return false;
}
