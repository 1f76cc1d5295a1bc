import { cloudtimeFor } from './cloudtime';

describe('cloudtimeFor', () => {
  const instant = new Date('2025-11-08T06:05:09.700Z');

  it('formats the wall clock of the terminal zone, zero-padded, without T or Z', () => {
    expect(cloudtimeFor('Asia/Baghdad', 'UTC', instant)).toBe('2025-11-08 09:05:09');
    expect(cloudtimeFor('UTC', 'UTC', instant)).toBe('2025-11-08 06:05:09');
    expect(cloudtimeFor('America/Lima', 'UTC', instant)).toBe('2025-11-08 01:05:09');
  });

  it('crosses the date line into the previous or next day', () => {
    expect(cloudtimeFor('Pacific/Kiritimati', 'UTC', new Date('2025-12-31T11:00:00Z'))).toBe('2026-01-01 01:00:00');
    expect(cloudtimeFor('Pacific/Pago_Pago', 'UTC', new Date('2026-01-01T05:00:00Z'))).toBe('2025-12-31 18:00:00');
  });

  it('follows daylight saving time', () => {
    expect(cloudtimeFor('Europe/Berlin', 'UTC', new Date('2025-07-01T12:00:00Z'))).toBe('2025-07-01 14:00:00');
    expect(cloudtimeFor('Europe/Berlin', 'UTC', new Date('2025-01-01T12:00:00Z'))).toBe('2025-01-01 13:00:00');
  });

  it('shows hour 00, never 24, at midnight', () => {
    expect(cloudtimeFor('UTC', 'UTC', new Date('2025-03-01T00:00:00Z'))).toBe('2025-03-01 00:00:00');
  });

  it('falls back to the default zone, then UTC, for a zone that cannot be used', () => {
    expect(cloudtimeFor('Mars/Olympus', 'Asia/Baghdad', instant)).toBe('2025-11-08 09:05:09');
    expect(cloudtimeFor('', 'Not/AZone', instant)).toBe('2025-11-08 06:05:09');
  });

  it('always matches the strict terminal format', () => {
    for (const zone of ['Asia/Kolkata', 'Australia/Eucla', 'America/St_Johns']) {
      expect(cloudtimeFor(zone, 'UTC', instant)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    }
  });

  it('answers each zone and second on its own (formatted once per zone and second)', () => {
    const t = new Date('2025-11-08T06:05:09.100Z');
    expect(cloudtimeFor('UTC', 'UTC', t)).toBe('2025-11-08 06:05:09');
    expect(cloudtimeFor('Asia/Baghdad', 'UTC', t)).toBe('2025-11-08 09:05:09');
    expect(cloudtimeFor('UTC', 'UTC', new Date('2025-11-08T06:05:09.900Z'))).toBe('2025-11-08 06:05:09');
    expect(cloudtimeFor('UTC', 'UTC', new Date('2025-11-08T06:05:10.000Z'))).toBe('2025-11-08 06:05:10');
    expect(cloudtimeFor('UTC', 'UTC', new Date('2025-11-08T06:05:08.999Z'))).toBe('2025-11-08 06:05:08');
    expect(cloudtimeFor('Mars/Olympus', 'UTC', t)).toBe('2025-11-08 06:05:09');
    expect(cloudtimeFor('Mars/Olympus', 'Asia/Baghdad', t)).toBe('2025-11-08 09:05:09');
  });
});
