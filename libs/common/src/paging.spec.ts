import { ApiError } from './errors';
import {
  clampLimit,
  clampPage,
  dayRange,
  escapeRegex,
  pageAnswer,
  pageCounters,
  pageWindow,
  parseUtcDay,
  totalPages,
} from './paging';

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

  it('turns a query into the rows to read, with the route default and the 100-row ceiling', () => {
    expect(pageWindow({}, 20)).toEqual({ page: 1, limit: 20, skip: 0 });
    expect(pageWindow({ page: 3, limit: 10 }, 20)).toEqual({ page: 3, limit: 10, skip: 20 });
    expect(pageWindow({ page: 2, limit: 500 }, 20)).toEqual({ page: 2, limit: 100, skip: 100 });
    expect(pageWindow({ page: 2 }, 10)).toEqual({ page: 2, limit: 10, skip: 10 });
  });

  it('shapes the admin answer and the punch counters in the contract key order', () => {
    const window = pageWindow({ page: 2, limit: 2 }, 20);
    const answer = pageAnswer(window, { total: 5, items: [1, 2] }, (n) => `#${n}`);
    expect(answer).toEqual({ success: true, total: 5, page: 2, items: ['#1', '#2'] });
    expect(Object.keys(answer)).toEqual(['success', 'total', 'page', 'items']);
    expect(pageAnswer(window, { total: 0, items: [] })).toEqual({ success: true, total: 0, page: 2, items: [] });
    const counters = pageCounters(window, 5);
    expect(counters).toEqual({ totalCount: 5, currentPage: 2, limit: 2, totalPages: 3 });
    expect(Object.keys(counters)).toEqual(['totalCount', 'currentPage', 'limit', 'totalPages']);
    expect(pageCounters(window, 0).totalPages).toBe(0);
  });
});
