import { formatTerminalTime, isValidTimeZone } from '@app/device-protocol';

/**
 * `cloudtime` for a terminal: now as `YYYY-MM-DD HH:MM:SS` on the wall clock of its zone. Terminals
 * set their clock from it, so a zone that cannot be used falls back rather than sending garbage.
 */
export function cloudtimeFor(timeZone: string, fallbackZone: string, now: Date = new Date()): string {
  const zone = isValidTimeZone(timeZone) ? timeZone : isValidTimeZone(fallbackZone) ? fallbackZone : 'UTC';
  return formatTerminalTime(now, zone);
}
