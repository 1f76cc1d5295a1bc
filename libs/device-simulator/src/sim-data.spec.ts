import { createRng, generateUsers, makeFingerprintTemplate, makePhoto } from './sim-data';

describe('simulated data', () => {
  it('makes fingerprint templates of hex with (N) zero-run markers, about 1000 chars', () => {
    const t = makeFingerprintTemplate(createRng(7));
    expect(t.length).toBeGreaterThanOrEqual(1000);
    expect(t.length).toBeLessThan(1620);
    expect(t).toMatch(/^[0-9A-F()]+$/);
    expect(t).toMatch(/\(\d+\)/);
  });

  it('makes photos that are base64 JPEGs starting with /9j/', () => {
    const photo = makePhoto(createRng(1), 2000);
    expect(photo.startsWith('/9j/')).toBe(true);
    const bytes = Buffer.from(photo, 'base64');
    expect(bytes.length).toBe(2000);
    expect([bytes[0], bytes[1], bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
  });

  it('generates the same users for the same seed, with realistic credentials', () => {
    const a = generateUsers(200, 'ZXRE06022863');
    expect(generateUsers(200, 'ZXRE06022863')).toEqual(a);
    expect(generateUsers(200, 'OTHER')).not.toEqual(a);
    expect(a.map((u) => u.enrollid)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(a[0].admin).toBe(1);
    const creds = a.flatMap((u) => u.credentials);
    expect(a.every((u) => u.credentials.some((c) => c.backupnum === 0))).toBe(true);
    expect(creds.filter((c) => c.backupnum === 11).every((c) => typeof c.record === 'number')).toBe(true);
    expect(
      creds.filter((c) => c.backupnum === 10).every((c) => typeof c.record === 'number' && c.record <= 99_999_999),
    ).toBe(true);
    expect(creds.filter((c) => c.backupnum === 50).every((c) => String(c.record).startsWith('/9j/'))).toBe(true);
    for (const slot of [10, 11, 50]) expect(creds.some((c) => c.backupnum === slot)).toBe(true);
  });
});
