/** JSON with sorted keys and no empty objects/undefined, so equal specs compare equal. */
export function canonical(value: unknown): string {
  const normalise = (v: any): any => {
    if (Array.isArray(v)) return v.map(normalise);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const inner = normalise(v[key]);
        if (inner === undefined || inner === null) continue;
        if (typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 0) continue;
        out[key] = inner;
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(normalise(value) ?? null);
}
