/**
 * Conversions between drivetrain's units (bytes, Docker CPU shares) and Kubernetes
 * quantities. Pure functions: the quantity always denotes exactly the requested amount.
 */

const BINARY_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/**
 * `bytes` as a Kubernetes quantity: the largest binary suffix that divides it exactly
 * (1073741824 → `"1Gi"`, 1536 Mi → `"1536Mi"`), else the plain number of bytes.
 */
export function bytesToQuantity(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative safe integer, received ${bytes}`);
  if (bytes === 0) return '0';
  for (const [suffix, factor] of BINARY_SUFFIXES) {
    if (bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return String(bytes);
}

const DECIMAL_FACTORS: Readonly<Record<string, number>> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A storage quantity (`"1Gi"`, `"500M"`, `"1024"`) in bytes, or `undefined` when it is not one. */
export function quantityToBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity.trim());
  if (match === null) return undefined;
  const factor = DECIMAL_FACTORS[match[2] ?? ''];
  return factor === undefined ? undefined : Math.round(Number(match[1]) * factor);
}

/** Docker CPU shares as Kubernetes millicores: shares × 1000 / 1024, rounded, at least 1. */
export function cpuSharesToMillicores(shares: number): number {
  return Math.max(1, Math.round((shares * 1000) / 1024));
}

/**
 * Container `resources` for the task's limits. Memory: the limit as given, the request at
 * 50 % of it. CPU: limit and request both at the shares' millicores, because the request is
 * what sets the container's CPU weight (cgroup `cpu.shares`), which is what Docker's
 * `cpuShares` means; a lower request would halve the weight the task asked for.
 */
export function resourcesFor(limits: { cpuShares?: number; memoryBytes?: number }): { limits?: Record<string, string>; requests?: Record<string, string> } {
  const limit: Record<string, string> = {};
  const request: Record<string, string> = {};
  if (limits.cpuShares !== undefined) {
    const millicores = cpuSharesToMillicores(limits.cpuShares);
    limit.cpu = `${millicores}m`;
    request.cpu = `${millicores}m`;
  }
  if (limits.memoryBytes !== undefined) {
    limit.memory = bytesToQuantity(limits.memoryBytes);
    request.memory = bytesToQuantity(Math.floor(limits.memoryBytes / 2));
  }
  if (Object.keys(limit).length === 0) return {};
  return { limits: limit, requests: request };
}
