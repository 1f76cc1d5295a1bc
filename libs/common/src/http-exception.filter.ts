import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, codeForStatus, ContractError } from './errors';

/** Turns anything thrown by an HTTP handler into the contract's body or the one error envelope. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const { status, body } = toErrorResponse(exception);
    if (status === 507) {
      // The database's own log line says why and what to do; one warning per refused request.
      this.logger.warn(`507 storage_full: ${exception instanceof Error ? exception.message : String(exception)}`);
    } else if (status >= 500 && !(exception instanceof HttpException)) {
      // Only unexpected failures are errors; a deliberate 502/504 (terminal refused, timed out) is a warning.
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    } else if (status >= 500) {
      this.logger.warn(`${status} ${JSON.stringify(body)}`);
    }
    res.status(status).json(body);
  }
}

export function toErrorResponse(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof ContractError || exception instanceof ApiError) {
    return { status: exception.getStatus(), body: exception.getResponse() as Record<string, unknown> };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const m = response.message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    return { status, body: { success: false, error: codeForStatus(status), message } };
  }
  if (isStorageFull(exception)) {
    return {
      status: 507,
      body: {
        success: false,
        error: 'storage_full',
        message:
          'The database refuses new data: its storage or memory budget is exhausted. Reads still work; an operator must free space.',
      },
    };
  }
  return { status: 500, body: { success: false, error: 'internal_error', message: 'Internal server error' } };
}

/** mongod's code for a write refused because storage is exhausted; the embedded database uses it for its memory budget. */
const STORAGE_FULL_CODE = 14031;

/** A database error (driver or Mongoose) saying the write was refused for lack of storage. */
export function isStorageFull(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; code?: unknown; writeErrors?: unknown };
  if (typeof err.name !== 'string' || !err.name.startsWith('Mongo')) return false;
  if (err.code === STORAGE_FULL_CODE) return true;
  return (
    Array.isArray(err.writeErrors) && err.writeErrors.some((w) => (w as { code?: unknown })?.code === STORAGE_FULL_CODE)
  );
}
