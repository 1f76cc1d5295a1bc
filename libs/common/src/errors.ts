import { HttpException } from '@nestjs/common';

/** The one error envelope: `{ success: false, error: <stable code>, message, ...extra }`. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super({ success: false, error: code, message: message ?? code.replace(/_/g, ' '), ...extra }, status);
  }
}

/**
 * An error whose body is fixed by the HTTP contract (for example
 * `{ success: false, error: 'device_offline_or_not_registered' }`): sent verbatim.
 */
export class ContractError extends HttpException {
  constructor(status: number, body: Record<string, unknown>) {
    super(body, status);
  }
}

export interface FieldError {
  field: string;
  messages: string[];
}

export class ValidationFailedError extends ApiError {
  constructor(errors: FieldError[]) {
    const first = errors[0];
    const message = first ? `${first.field}: ${first.messages[0]}` : 'Invalid request';
    super(400, 'validation_failed', message, { errors });
  }
}

/** Stable codes for the HTTP statuses Nest or Express may raise on their own. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    case 503:
      return 'service_unavailable';
    case 504:
      return 'timeout';
    default:
      return status >= 500 ? 'internal_error' : 'error';
  }
}

/** MongoDB's E11000: a unique index refused the write (the same on mongod and the embedded server). */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The statements a bulk write refused, by their index in the batch, each as an Error carrying the
 * database's code (so isDuplicateKeyError applies); empty when `err` is not a bulk write's failure.
 * An ordered write stops at its first refused statement, an unordered one reports every one.
 */
export function bulkWriteErrors(err: unknown): Map<number, Error & { code?: unknown }> {
  const out = new Map<number, Error & { code?: unknown }>();
  if (typeof err !== 'object' || err === null) return out;
  const list = (err as { writeErrors?: unknown }).writeErrors;
  for (const w of (Array.isArray(list) ? list : list ? [list] : []) as Array<{
    index?: unknown;
    code?: unknown;
    errmsg?: unknown;
  }>) {
    if (typeof w?.index !== 'number') continue;
    const message = typeof w.errmsg === 'string' ? w.errmsg : 'write refused';
    out.set(w.index, Object.assign(new Error(message), { code: w.code }));
  }
  return out;
}

/** One line for a log or a stored `lastError`: an API error's code and message, or the error's message. */
export function describeError(err: unknown): string {
  if (err instanceof HttpException) {
    const body = err.getResponse();
    if (typeof body === 'object' && body !== null) {
      const { error, message } = body as { error?: unknown; message?: unknown };
      const text = [error, message].filter((v) => typeof v === 'string').join(': ');
      if (text) return text;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
