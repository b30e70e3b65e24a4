/**
 * resource.Quantity arithmetic for quota: exact (nano-units as bigint), and printed in
 * canonical form as apimachinery's Quantity.String does (`500m`, `1`, `1536Mi`, `2Gi`),
 * keeping the binary (Ki, Mi, …) or decimal format the value was written in.
 */

export interface Quantity {
  /** The value in nano-units (1 = 1e-9). */
  nanos: bigint;
  binary: boolean;
}

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const NANO = 1_000_000_000n;

/** Parses `500m`, `1.5`, `128Mi`, `1e3`; undefined when it is not a quantity. */
export function parse(text: unknown): Quantity | undefined {
  const value = typeof text === 'number' ? String(text) : text;
  if (typeof value !== 'string') return undefined;
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/.exec(value.trim());
  if (!match || (match[2] === '' && !match[3])) return undefined;
  const [, sign, whole = '', fraction = '', exponent, suffix = ''] = match;
  if (exponent !== undefined && suffix !== '') return undefined;
  const digits = BigInt(`${whole}${fraction}` || '0');
  let exp = -fraction.length + Number(exponent ?? 0);
  let factor = 1n;
  if (suffix in BINARY) factor = BINARY[suffix]!;
  else if (suffix in DECIMAL_EXP) exp += DECIMAL_EXP[suffix]!;
  else return undefined;
  // To nanos: digits * factor * 10^(exp + 9), rounded up as Quantity rounds to nano precision.
  const shift = exp + 9;
  let nanos = shift >= 0 ? digits * factor * 10n ** BigInt(shift) : (digits * factor + 10n ** BigInt(-shift) - 1n) / 10n ** BigInt(-shift);
  if (sign === '-') nanos = -nanos;
  return { nanos, binary: suffix in BINARY };
}

export const zero = (): Quantity => ({ nanos: 0n, binary: false });

/** a + b in a's format (b's when a is zero), as Quantity.Add. */
export function add(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, binary: a.nanos === 0n ? b.binary : a.binary };
}

const DECIMAL_SUFFIXES: Array<[number, string]> = [
  [18, 'E'],
  [15, 'P'],
  [12, 'T'],
  [9, 'G'],
  [6, 'M'],
  [3, 'k'],
  [0, ''],
  [-3, 'm'],
  [-6, 'u'],
  [-9, 'n'],
];

/** Quantity.String: the largest suffix that keeps an integer mantissa (a binary value that is no multiple of 1Ki prints bare). */
export function format(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const sign = q.nanos < 0n ? '-' : '';
  const nanos = q.nanos < 0n ? -q.nanos : q.nanos;
  if (q.binary && nanos % NANO === 0n) {
    const whole = nanos / NANO;
    for (const [suffix, factor] of Object.entries(BINARY).reverse()) if (whole % factor === 0n) return `${sign}${whole / factor}${suffix}`;
    return `${sign}${whole}`;
  }
  for (const [exp, suffix] of DECIMAL_SUFFIXES) {
    const unit = 10n ** BigInt(exp + 9);
    if (nanos % unit === 0n) return `${sign}${nanos / unit}${suffix}`;
  }
  return `${sign}${nanos}n`;
}
