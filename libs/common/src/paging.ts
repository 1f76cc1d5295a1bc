import { ApiError } from './errors';

/** The contract's page sizes: 20 rows unless the listing says otherwise, never more than 100. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function clampPage(page: number | undefined): number {
  return page !== undefined && Number.isFinite(page) && page >= 1 ? Math.floor(page) : 1;
}

/** Limits above the maximum are clamped (not refused), as the contract's clients expect. */
export function clampLimit(limit: number | undefined, fallback: number, max = MAX_PAGE_SIZE): number {
  if (limit === undefined || !Number.isFinite(limit) || limit < 1) return fallback;
  return Math.min(Math.floor(limit), max);
}

export function totalPages(totalCount: number, limit: number): number {
  return totalCount === 0 ? 0 : Math.ceil(totalCount / limit);
}

/** The rows a listing's query asks for: `page` from 1, `limit` within 1..max, `skip` the rows before. */
export interface PageWindow {
  page: number;
  limit: number;
  skip: number;
}

/** One page of rows and how many match in all (what repositories and services return to a listing). */
export interface Slice<T> {
  total: number;
  items: T[];
}

/** The window of a listing: a missing or out-of-range page is the first, a missing limit the route's default. */
export function pageWindow(
  query: { page?: number; limit?: number },
  defaultLimit: number,
  max = MAX_PAGE_SIZE,
): PageWindow {
  const page = clampPage(query.page);
  const limit = clampLimit(query.limit, defaultLimit, max);
  return { page, limit, skip: (page - 1) * limit };
}

/** The admin listings' answer: `{ success: true, total, page, items }`, items mapped when `map` is given. */
export function pageAnswer<T>(
  window: PageWindow,
  slice: Slice<T>,
): { success: true; total: number; page: number; items: T[] };
export function pageAnswer<T, U>(
  window: PageWindow,
  slice: Slice<T>,
  map: (item: T) => U,
): { success: true; total: number; page: number; items: U[] };
export function pageAnswer<T, U>(window: PageWindow, slice: Slice<T>, map?: (item: T) => U) {
  return {
    success: true as const,
    total: slice.total,
    page: window.page,
    items: map ? slice.items.map(map) : slice.items,
  };
}

/** The punch listings' counters, named as the contract names them. */
export interface PageCounters {
  totalCount: number;
  currentPage: number;
  limit: number;
  totalPages: number;
}

export function pageCounters(window: PageWindow, total: number): PageCounters {
  return {
    totalCount: total,
    currentPage: window.page,
    limit: window.limit,
    totalPages: totalPages(total, window.limit),
  };
}

/** User text inside a MongoDB regex is text: `.*` or `(` match themselves. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` as the start of that UTC day; impossible dates (2025-02-30) are refused. */
export function parseUtcDay(value: string, field: string): Date {
  const m = DAY.exec(value);
  if (m) {
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (
      date.getUTCFullYear() === Number(m[1]) &&
      date.getUTCMonth() === Number(m[2]) - 1 &&
      date.getUTCDate() === Number(m[3])
    ) {
      return date;
    }
  }
  throw new ApiError(400, 'validation_failed', `${field} must be a date YYYY-MM-DD`, {
    errors: [{ field, messages: [`${field} must be a valid date YYYY-MM-DD`] }],
  });
}

/** `from`/`to` as whole UTC days: `{ $gte: from 00:00, $lt: (to + 1 day) 00:00 }`. */
export function dayRange(from?: string, to?: string): { $gte?: Date; $lt?: Date } | undefined {
  if (!from && !to) return undefined;
  const range: { $gte?: Date; $lt?: Date } = {};
  if (from) range.$gte = parseUtcDay(from, 'from');
  if (to) range.$lt = new Date(parseUtcDay(to, 'to').getTime() + 86_400_000);
  return range;
}
