/**
 * A time zone's UTC offset, remembered per hour. Reading it from Intl (formatToParts) is the costly
 * part of reading a punch's time (several reads per record, tens of microseconds each), while a
 * zone's offset changes only a few times a year. An hour whose first and last second have the same
 * offset is remembered; an hour holding a change is read from Intl every time.
 */
const HOUR_MS = 3_600_000;
/** Hours remembered per zone before the zone's memory is cleared (a few years of punches). */
const MAX_HOURS_PER_ZONE = 50_000;
/** Marks an hour that holds an offset change. */
const CHANGES = Number.NaN;

const zones = new Map<string, Map<number, number>>();

/** `read(ms)`: the zone's offset at whole second `ms`, from Intl. */
export function zoneOffsetMs(ms: number, timeZone: string, read: (ms: number) => number): number {
  const hour = Math.floor(ms / HOUR_MS);
  let hours = zones.get(timeZone);
  if (!hours) {
    hours = new Map();
    zones.set(timeZone, hours);
  }
  const known = hours.get(hour);
  if (known !== undefined) return Number.isNaN(known) ? read(ms) : known;
  const first = read(hour * HOUR_MS);
  const last = read(hour * HOUR_MS + HOUR_MS - 1000);
  if (hours.size >= MAX_HOURS_PER_ZONE) hours.clear();
  hours.set(hour, first === last ? first : CHANGES);
  return first === last ? first : read(ms);
}
