import {
  formatTerminalDate,
  formatTerminalTime,
  isTerminalTimeSyntax,
  isValidTimeZone,
  normaliseTerminalDate,
  normaliseWallClockText,
  parseTerminalTime,
} from './terminal-time';
import { ProtocolError } from './protocol-error';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

describe('formatTerminalTime', () => {
  it('formats in the given zone with zero padding', () => {
    const instant = new Date('2024-01-05T06:07:08Z');
    expect(formatTerminalTime(instant, 'UTC')).toBe('2024-01-05 06:07:08');
    expect(formatTerminalTime(instant, 'Asia/Baghdad')).toBe('2024-01-05 09:07:08');
    expect(formatTerminalTime(instant, 'America/New_York')).toBe('2024-01-05 01:07:08');
  });

  it('uses 00 for midnight, never 24', () => {
    expect(formatTerminalTime(new Date('2024-03-10T21:00:00Z'), 'Asia/Baghdad')).toBe('2024-03-11 00:00:00');
  });

  it('follows DST in Europe/Berlin', () => {
    expect(formatTerminalTime(new Date('2024-07-01T10:00:00Z'), 'Europe/Berlin')).toBe('2024-07-01 12:00:00');
    expect(formatTerminalTime(new Date('2024-12-01T10:00:00Z'), 'Europe/Berlin')).toBe('2024-12-01 11:00:00');
    expect(formatTerminalTime(new Date('2024-03-31T00:59:59Z'), 'Europe/Berlin')).toBe('2024-03-31 01:59:59');
    expect(formatTerminalTime(new Date('2024-03-31T01:00:00Z'), 'Europe/Berlin')).toBe('2024-03-31 03:00:00');
  });

  it('throws a ProtocolError for an unknown zone or an invalid date', () => {
    expect(() => formatTerminalTime(new Date(), 'Mars/Olympus')).toThrow(ProtocolError);
    expect(() => formatTerminalTime(new Date(NaN), 'UTC')).toThrow(ProtocolError);
  });

  it('formats getalllog dates without padding', () => {
    expect(formatTerminalDate(new Date('2018-11-01T22:30:00Z'), 'UTC')).toBe('2018-11-1');
    expect(formatTerminalDate(new Date('2018-11-01T22:30:00Z'), 'Asia/Baghdad')).toBe('2018-11-2');
  });
});

describe('parseTerminalTime', () => {
  it('reads the terminal format as wall clock in the zone', () => {
    expect(iso(parseTerminalTime('2024-05-01 08:00:00', 'Asia/Baghdad'))).toBe('2024-05-01T05:00:00.000Z');
    expect(iso(parseTerminalTime('2024-05-01 08:00:00', 'UTC'))).toBe('2024-05-01T08:00:00.000Z');
  });

  it('accepts unpadded parts, missing seconds, T separator and extra spaces', () => {
    expect(iso(parseTerminalTime('2024-5-1 8:0:0', 'UTC'))).toBe('2024-05-01T08:00:00.000Z');
    expect(iso(parseTerminalTime('2024-05-01T08:00', 'UTC'))).toBe('2024-05-01T08:00:00.000Z');
    expect(iso(parseTerminalTime('  2024/05/01   08:00:30 ', 'UTC'))).toBe('2024-05-01T08:00:30.000Z');
    expect(iso(parseTerminalTime('2024-05-01 08:00:30.250', 'UTC'))).toBe('2024-05-01T08:00:30.250Z');
  });

  it('treats a trailing Z as UTC whatever the zone', () => {
    expect(iso(parseTerminalTime('2025-11-08T09:00:00Z', 'Asia/Baghdad'))).toBe('2025-11-08T09:00:00.000Z');
    expect(iso(parseTerminalTime('2025-11-08 09:00:00z', 'Europe/Berlin'))).toBe('2025-11-08T09:00:00.000Z');
  });

  it('honours an explicit offset', () => {
    expect(iso(parseTerminalTime('2025-11-08T09:00:00+03:00', 'UTC'))).toBe('2025-11-08T06:00:00.000Z');
    expect(iso(parseTerminalTime('2025-11-08T09:00:00-0130', 'UTC'))).toBe('2025-11-08T10:30:00.000Z');
  });

  it('reads Europe/Berlin summer and winter times', () => {
    expect(iso(parseTerminalTime('2024-07-01 12:00:00', 'Europe/Berlin'))).toBe('2024-07-01T10:00:00.000Z');
    expect(iso(parseTerminalTime('2024-12-01 12:00:00', 'Europe/Berlin'))).toBe('2024-12-01T11:00:00.000Z');
  });

  it('moves a time skipped by the spring-forward gap forward by the gap', () => {
    // 02:30 does not exist on 2024-03-31 in Berlin; it reads as 03:30 CEST.
    expect(iso(parseTerminalTime('2024-03-31 02:30:00', 'Europe/Berlin'))).toBe('2024-03-31T01:30:00.000Z');
  });

  it('resolves the repeated autumn hour to its first occurrence', () => {
    expect(iso(parseTerminalTime('2024-10-27 02:30:00', 'Europe/Berlin'))).toBe('2024-10-27T00:30:00.000Z');
    expect(iso(parseTerminalTime('2024-10-27 03:00:00', 'Europe/Berlin'))).toBe('2024-10-27T02:00:00.000Z');
  });

  it('round-trips every hour across both Berlin transitions', () => {
    for (const start of ['2024-03-30T20:00:00Z', '2024-10-26T20:00:00Z']) {
      for (let h = 0; h < 12; h++) {
        const instant = new Date(Date.parse(start) + h * 3_600_000 + 17 * 60_000);
        const text = formatTerminalTime(instant, 'Europe/Berlin');
        const back = parseTerminalTime(text, 'Europe/Berlin')!;
        // Only the repeated hour can map back to the earlier instant.
        expect([instant.getTime(), instant.getTime() - 3_600_000]).toContain(back.getTime());
        expect(formatTerminalTime(back, 'Europe/Berlin')).toBe(text);
      }
    }
  });

  it('Asia/Baghdad has a fixed +03:00 offset (no DST since 2008)', () => {
    expect(iso(parseTerminalTime('2024-01-15 12:00:00', 'Asia/Baghdad'))).toBe('2024-01-15T09:00:00.000Z');
    expect(iso(parseTerminalTime('2024-07-15 12:00:00', 'Asia/Baghdad'))).toBe('2024-07-15T09:00:00.000Z');
  });

  it.each([
    '',
    'yesterday',
    '2024-13-01 08:00:00',
    '2024-02-30 08:00:00',
    '2023-02-29 08:00:00',
    '2024-05-01 24:00:00',
    '2024-05-01 08:60:00',
    '2024-05-01 08:00:61',
    '2024-05-01',
    '1700000000',
    '2024-05-01 08:00:00+25:00',
  ])('returns null for %p', (raw) => {
    expect(parseTerminalTime(raw, 'UTC')).toBeNull();
    expect(isTerminalTimeSyntax(raw)).toBe(false);
  });

  it('accepts the leap day of a leap year', () => {
    expect(iso(parseTerminalTime('2024-02-29 23:59:59', 'UTC'))).toBe('2024-02-29T23:59:59.000Z');
  });

  it('throws a ProtocolError for an unknown zone', () => {
    expect(() => parseTerminalTime('2024-05-01 08:00:00', 'Nowhere/City')).toThrow(ProtocolError);
  });

  it('isTerminalTimeSyntax rejects non-strings', () => {
    expect(isTerminalTimeSyntax(20240501)).toBe(false);
    expect(isTerminalTimeSyntax(null)).toBe(false);
  });
});

describe('time text helpers', () => {
  it('isValidTimeZone', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Asia/Baghdad')).toBe(true);
    expect(isValidTimeZone('Bad/Zone')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone(3)).toBe(false);
  });

  it('normaliseWallClockText pads and refuses zoned text', () => {
    expect(normaliseWallClockText('2024-5-1 8:0')).toBe('2024-05-01 08:00:00');
    expect(normaliseWallClockText('2024-05-01T08:00:00Z')).toBeNull();
    expect(normaliseWallClockText('nope')).toBeNull();
  });

  it('normaliseTerminalDate drops padding and validates', () => {
    expect(normaliseTerminalDate('2018-11-01')).toBe('2018-11-1');
    expect(normaliseTerminalDate('2018-1-1')).toBe('2018-1-1');
    expect(normaliseTerminalDate('2018-02-30')).toBeNull();
    expect(normaliseTerminalDate('2018-11-01 00:00:00')).toBeNull();
    expect(normaliseTerminalDate(20181101)).toBeNull();
  });
});
