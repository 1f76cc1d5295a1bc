import { ApiError } from '@app/common';

export interface FinishedOperation {
  _id: string;
  status: string;
  lastError?: string;
  response?: Record<string, unknown>;
}

/** The terminal's `reason` of a refused command, when it gave one. */
export function replyReason(op: FinishedOperation): number | undefined {
  const reason = op.response?.reason;
  if (typeof reason === 'number') return reason;
  if (typeof reason === 'string' && /^\d+$/.test(reason)) return Number(reason);
  return undefined;
}

/**
 * An operation that finished without success: 502, because the terminal (not the request) is what
 * failed. The operation id lets the caller look at it and retry it.
 */
export function commandFailed(op: FinishedOperation, what: string): ApiError {
  const detail = op.status === 'canceled' ? 'was canceled' : `failed (${op.lastError ?? 'no reason given'})`;
  return new ApiError(502, 'device_command_failed', `${what} ${detail}`, {
    opId: op._id,
    status: op.status,
    ...(op.response !== undefined && { response: op.response }),
  });
}
