import { parseTerminalTime, wallClockAt } from './terminal-time';
import { zoneOffsetMs } from './zone-offsets';

/** The offset read straight from Intl, as terminal-time does without the memory. */
function direct(ms: number, timeZone: string): number {
  const w = wallClockAt(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - ms;
}

describe('zoneOffsetMs', () => {
  // Zones with DST changes (Lord Howe moves by 30 minutes), 45-minute offsets, and none at all.
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Asia/Baghdad'];
  // Every 7 minutes 20 seconds over the days around 2026's changes, and around Samoa's skipped day.
  const spans: Array<[string, string]> = [
    ['2026-03-27T00:00:00Z', '2026-04-06T00:00:00Z'],
    ['2026-10-23T00:00:00Z', '2026-11-03T00:00:00Z'],
  ];

  it('answers what Intl answers at every second it is asked, across offset changes', () => {
    let checked = 0;
    for (const zone of [...zones, 'Pacific/Apia']) {
      const ranges = zone === 'Pacific/Apia' ? [['2011-12-28T00:00:00Z', '2012-01-02T00:00:00Z']] : spans;
      for (const [from, to] of ranges) {
        for (let ms = Date.parse(from); ms < Date.parse(to); ms += 440_000) {
          expect(zoneOffsetMs(ms, zone, (t) => direct(t, zone))).toBe(direct(ms, zone));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('reads Intl twice per hour of a zone, then answers from memory', () => {
    let reads = 0;
    const read = (t: number): number => {
      reads++;
      return direct(t, 'Asia/Baghdad');
    };
    const hourStart = Date.parse('2030-05-05T10:00:00Z');
    for (let s = 0; s < 3600; s += 10) zoneOffsetMs(hourStart + s * 1000, 'Asia/Baghdad', read);
    expect(reads).toBe(2);
  });

  it('keeps terminal times exact on both sides of a change (Berlin, spring and autumn)', () => {
    expect(parseTerminalTime('2026-03-29 01:59:59', 'Europe/Berlin')!.toISOString()).toBe('2026-03-29T00:59:59.000Z');
    expect(parseTerminalTime('2026-03-29 03:00:00', 'Europe/Berlin')!.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(parseTerminalTime('2026-10-25 02:30:00', 'Europe/Berlin')!.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(parseTerminalTime('2026-10-25 03:00:00', 'Europe/Berlin')!.toISOString()).toBe('2026-10-25T02:00:00.000Z');
  });
});
