export type Json = Record<string, unknown>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Highest enroll id terminals accept: 12 digits (Topdata readers allow 12 and ship set to 9). */
export const MAX_ENROLL_ID = 999_999_999_999;

export function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

const NUMERIC_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number from a number or a numeric string (firmware sends both). */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const s = v.trim();
    if (!NUMERIC_RE.test(s)) return undefined;
    const n = Number(s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A safe integer from a number or a numeric string; `3.0` and `"3"` pass, `3.5` does not. */
export function toInt(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** 0/1 flags are sent as numbers, strings or booleans depending on the firmware. */
export function toFlag(v: unknown): 0 | 1 | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return 1;
    if (s === 'false') return 0;
  }
  const n = toInt(v);
  return n === 0 || n === 1 ? n : undefined;
}

export function toBool(v: unknown): boolean | undefined {
  const f = toFlag(v);
  return f === undefined ? undefined : f === 1;
}

/** Strings stay strings, numbers become their decimal text; anything else is absent. */
export function toStr(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? `"${v.slice(0, 40)}..."` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/**
 * Enroll ids arrive as numbers or numeric strings. 0 is legal only where the reference reserves it
 * (door events in logs, the "everyone" profile); anything negative, fractional or above 12 digits is
 * rejected so one bad id never turns into a wrong user.
 */
export function parseEnrollId(v: unknown, opts: { allowZero?: boolean } = {}): ParseResult<number> {
  const n = toInt(v);
  if (n === undefined) return { ok: false, reason: `enrollid ${describe(v)} is not an integer` };
  const min = opts.allowZero ? 0 : 1;
  if (n < min || n > MAX_ENROLL_ID) {
    return { ok: false, reason: `enrollid ${n} is out of range ${min}..${MAX_ENROLL_ID}` };
  }
  return { ok: true, value: n };
}

/** Terminal serial numbers: letters, digits and `.`, `_`, `-`, at most 64 characters. */
const SN_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidSn(sn: unknown): sn is string {
  return typeof sn === 'string' && SN_RE.test(sn);
}

export function parseSn(v: unknown): ParseResult<string> {
  const s = toStr(v)?.trim();
  if (!s) return { ok: false, reason: `sn ${describe(v)} is missing or empty` };
  if (!SN_RE.test(s)) return { ok: false, reason: `sn ${describe(s)} has characters a serial number cannot have` };
  return { ok: true, value: s };
}

/** `reason` is an integer code in every reply except `reg`, where it is text for the screen. */
export function toReason(v: unknown): number | string | undefined {
  const n = toInt(v);
  if (n !== undefined) return n;
  return typeof v === 'string' ? v : undefined;
}
