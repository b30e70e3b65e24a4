import fc from 'fast-check';
import { isWellFormedText, validateNamespace, validateTaskId, validateVolumeName } from '../../src/validate.js';

/**
 * Generators shared by the property tests. Small alphabets make collisions and edge
 * cases likely (two IDs that differ only in case, a namespace that ends where an ID
 * begins); the wide ones cover every UTF-16 unit, lone surrogates included.
 */

/** Any string: every UTF-16 code unit, up to `maxLength` units. */
export function anyString(maxLength = 80): fc.Arbitrary<string> {
  return fc.string({ unit: 'binary', maxLength });
}

/** Strings over a few characters that sanitising treats differently (case, `-`, `_`, `.`, non-ASCII, hex digits, a lone surrogate and the character UTF-8 puts in its place). */
export function trickyString(maxLength = 24): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom('a', 'A', 'b', '0', '9', 'f', '-', '_', '.', ' ', '/', 'é', '日', '\uD800', '\uFFFD'), maxLength });
}

/** `arbitrary` restricted to well-formed text: the domain of the name functions once IDs are validated. */
export function wellFormed(arbitrary: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return arbitrary.filter(isWellFormedText);
}

/** A task ID as `validateTaskId` accepts it (non-empty, not blank, no NUL, at most 1024 units). */
export function taskId(): fc.Arbitrary<string> {
  return fc.oneof(trickyString(70), anyString(), fc.string({ unit: 'grapheme', minLength: 60, maxLength: 300 })).filter((id) => accepts(validateTaskId, id));
}

/** A drivetrain namespace as `validateNamespace` accepts it, biased to short ones with `-`. */
export function namespace(): fc.Arbitrary<string> {
  return fc
    .oneof(fc.string({ unit: fc.constantFrom('a', 'b', '1', '-'), minLength: 1, maxLength: 8 }), fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/))
    .filter((ns) => accepts(validateNamespace, ns));
}

/** A volume name as `validateVolumeName` accepts it. */
export function volumeName(): fc.Arbitrary<string> {
  return fc
    .oneof(fc.string({ unit: fc.constantFrom('a', 'b', '1', '-', '_', '.'), minLength: 1, maxLength: 10 }), fc.stringMatching(/^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/))
    .filter((name) => accepts(validateVolumeName, name));
}

/** True when `validate` does not throw for `value`. */
export function accepts(validate: (value: unknown) => void, value: unknown): boolean {
  try {
    validate(value);
    return true;
  } catch {
    return false;
  }
}

/** `[a, b]` with `a !== b`. */
export function distinctPair<T>(arbitrary: fc.Arbitrary<T>, same: (a: T, b: T) => boolean = (a, b) => a === b): fc.Arbitrary<[T, T]> {
  return fc.tuple(arbitrary, arbitrary).filter(([a, b]) => !same(a, b));
}

/**
 * Two `[namespace, part]` pairs that spell one string `<namespace>-<part>`, split at
 * different dashes (`ci` + `main-build`, `ci-main` + `build`): the pairs a name made by
 * joining them with `-` could not tell apart. Both parts pass `validPart`.
 */
export function shiftedBoundary(part: fc.Arbitrary<string>, validPart: (part: string) => boolean): fc.Arbitrary<[[string, string], [string, string]]> {
  return fc
    .tuple(namespace(), part, fc.nat())
    .map(([ns, p, k]): [[string, string], [string, string]] => {
      const joined = `${ns}-${p}`;
      const dashes = [...joined].flatMap((c, i) => (c === '-' ? [i] : []));
      const at = dashes[k % dashes.length] as number;
      return [[ns, p], [joined.slice(0, at), joined.slice(at + 1)]];
    })
    .filter(([[n1, p1], [n2, p2]]) => (n1 !== n2 || p1 !== p2) && accepts(validateNamespace, n2) && validPart(p1) && validPart(p2));
}
