import { ProtocolError } from './protocol-error';
import { zoneOffsetMs } from './zone-offsets';

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ProtocolError(`unknown time zone "${timeZone}"`, 'timeZone');
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock shown in `timeZone` at `instant`. */
export function wallClockAt(instant: Date | number, timeZone: string): WallClock {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new ProtocolError('invalid date', 'time');
  const parts = formatterFor(timeZone).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

function wallAsUtcMs(w: WallClock): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

function readOffsetMs(whole: number, timeZone: string): number {
  return wallAsUtcMs(wallClockAt(whole, timeZone)) - whole;
}

function offsetMsAt(instantMs: number, timeZone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return zoneOffsetMs(whole, timeZone, (ms) => readOffsetMs(ms, timeZone));
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall-clock time means in `timeZone`. Ambiguous times (the hour repeated when DST
 * ends) resolve to the earlier instant; times skipped when DST starts move forward by the gap,
 * the same choice as Temporal's "compatible" disambiguation.
 */
export function wallClockToInstant(w: WallClock, timeZone: string): Date {
  const local = wallAsUtcMs(w);
  const before = offsetMsAt(local - DAY_MS, timeZone);
  const after = offsetMsAt(local + DAY_MS, timeZone);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset)
    .filter((t) => offsetMsAt(t, timeZone) === local - t)
    .sort((a, b) => a - b);
  return new Date(candidates.length > 0 ? candidates[0] : local - before);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

export function formatWallClock(w: WallClock): string {
  return `${String(w.year).padStart(4, '0')}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)}`;
}

/** `YYYY-MM-DD HH:MM:SS` in `timeZone`: the only time format ever sent to a terminal. */
export function formatTerminalTime(instant: Date, timeZone: string): string {
  return formatWallClock(wallClockAt(instant, timeZone));
}

/** `YYYY-M-D` (no padding), the date format of the getalllog filter. */
export function formatTerminalDate(instant: Date, timeZone: string): string {
  const w = wallClockAt(instant, timeZone);
  return `${w.year}-${w.month}-${w.day}`;
}

const TIME_RE =
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[Tt]|\s+)(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(year: number, month: number, day: number): boolean {
  return year >= 1900 && year <= 2999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

interface ParsedTime {
  wall: WallClock;
  ms: number;
  /** Offset in minutes east of UTC when the text carried one (`Z` = 0). */
  offsetMinutes?: number;
}

function parseTimeText(raw: unknown): ParsedTime | null {
  if (typeof raw !== 'string') return null;
  const m = TIME_RE.exec(raw.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  let offsetMinutes: number | undefined;
  if (m[8] !== undefined) {
    if (m[8] === 'Z' || m[8] === 'z') offsetMinutes = 0;
    else {
      const digits = m[8].slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
      if (oh > 14 || om > 59) return null;
      offsetMinutes = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
    }
  }
  return { wall: { year, month, day, hour, minute, second }, ms, offsetMinutes };
}

/** True when `raw` is a time parseTerminalTime understands (zone-independent syntax check). */
export function isTerminalTimeSyntax(raw: unknown): raw is string {
  return parseTimeText(raw) !== null;
}

/**
 * Lenient reading of a time a terminal (or a client) sent: `YYYY-M-D H:M:S`, seconds optional,
 * `T` instead of the space, optional fraction. A trailing `Z` or `±HH:MM` names the zone; otherwise
 * the text is wall-clock time in `timeZone`. Returns null when the text is not a valid time.
 */
export function parseTerminalTime(raw: string, timeZone: string): Date | null {
  formatterFor(timeZone);
  const parsed = parseTimeText(raw);
  if (!parsed) return null;
  if (parsed.offsetMinutes !== undefined) {
    return new Date(wallAsUtcMs(parsed.wall) + parsed.ms - parsed.offsetMinutes * 60_000);
  }
  return new Date(wallClockToInstant(parsed.wall, timeZone).getTime() + parsed.ms);
}

/**
 * Pads a zone-less wall-clock time to `YYYY-MM-DD HH:MM:SS` (fraction dropped). Returns null for
 * text that is not a time or that names a zone (those need parseTerminalTime + formatTerminalTime).
 */
export function normaliseWallClockText(raw: unknown): string | null {
  const parsed = parseTimeText(raw);
  if (!parsed || parsed.offsetMinutes !== undefined) return null;
  return formatWallClock(parsed.wall);
}

const DATE_RE = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;

/** Reads `YYYY-M-D` / `YYYY-MM-DD` and returns the unpadded form the getalllog filter uses. */
export function normaliseTerminalDate(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const m = DATE_RE.exec(raw.trim());
  if (!m) return null;
  const [year, month, day] = [m[1], m[2], m[3]].map(Number);
  return validDate(year, month, day) ? `${year}-${month}-${day}` : null;
}
