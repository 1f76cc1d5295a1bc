import { formatTerminalTime, isValidTimeZone } from '@app/device-protocol';

/** Zones whose current second is remembered (the zones terminals are set to: a handful). */
const MEMO_ZONES = 64;
const memo = new Map<string, { second: number; text: string }>();

/**
 * `cloudtime` for a terminal: now as `YYYY-MM-DD HH:MM:SS` on the wall clock of its zone. Terminals
 * set their clock from it, so a zone that cannot be used falls back rather than sending garbage.
 * Formatted once per zone and second: thousands of terminals registering in the same second share it.
 */
export function cloudtimeFor(timeZone: string, fallbackZone: string, now: Date = new Date()): string {
  const second = Math.floor(now.getTime() / 1000);
  const key = `${timeZone}\n${fallbackZone}`;
  const hit = memo.get(key);
  if (hit && hit.second === second) return hit.text;
  const zone = isValidTimeZone(timeZone) ? timeZone : isValidTimeZone(fallbackZone) ? fallbackZone : 'UTC';
  const text = formatTerminalTime(now, zone);
  if (!hit && memo.size >= MEMO_ZONES) memo.clear();
  memo.set(key, { second, text });
  return text;
}
