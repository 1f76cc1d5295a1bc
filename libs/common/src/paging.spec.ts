import { ApiError } from './errors';
import { clampLimit, clampPage, dayRange, escapeRegex, parseUtcDay, totalPages } from './paging';

describe('paging helpers', () => {
  it('clamps page and limit', () => {
    expect(clampPage(undefined)).toBe(1);
    expect(clampPage(0)).toBe(1);
    expect(clampPage(3)).toBe(3);
    expect(clampLimit(undefined, 20)).toBe(20);
    expect(clampLimit(500, 20)).toBe(100);
    expect(clampLimit(0, 10)).toBe(10);
    expect(totalPages(0, 20)).toBe(0);
    expect(totalPages(41, 20)).toBe(3);
  });

  it('escapes regex metacharacters so user text matches itself', () => {
    const pattern = new RegExp(escapeRegex('a.*(b'));
    expect(pattern.test('xa.*(by')).toBe(true);
    expect(pattern.test('aXXb')).toBe(false);
  });

  it('turns day filters into a whole-day UTC range and refuses impossible dates', () => {
    expect(dayRange('2025-11-01', '2025-11-10')).toEqual({
      $gte: new Date('2025-11-01T00:00:00.000Z'),
      $lt: new Date('2025-11-11T00:00:00.000Z'),
    });
    expect(dayRange()).toBeUndefined();
    expect(() => parseUtcDay('2025-02-30', 'to')).toThrow(ApiError);
    expect(() => parseUtcDay('yesterday', 'from')).toThrow(/from must be a date/);
  });
});
