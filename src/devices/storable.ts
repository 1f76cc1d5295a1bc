const MAX_DEPTH = 5;
const MAX_KEYS = 200;
const MAX_STRING = 4096;

/**
 * Terminal-supplied objects (devinfo, raw records) stored as they came, minus what MongoDB cannot
 * or must not hold: keys starting with `$` or containing `.`/NUL, runaway nesting, huge strings.
 */
export function storable(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  }
  if (typeof value === 'string') return value.length > MAX_STRING ? value.slice(0, MAX_STRING) : value;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    return value.slice(0, MAX_KEYS).map((v) => storable(v, depth + 1) ?? null);
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (kept >= MAX_KEYS) break;
      if (key.startsWith('$') || key.includes('.') || key.includes('\0') || key.length > 100) continue;
      const s = storable(v, depth + 1);
      if (s === undefined) continue;
      out[key] = s;
      kept++;
    }
    return out;
  }
  return undefined;
}

export function storableObject(value: unknown): Record<string, unknown> {
  const s = storable(value);
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
}
