import { ApiError } from './errors';

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
