import { Types } from 'mongoose';
import { ApiError, ContractError, isObjectIdString } from '@app/common';

/** The contract's answer for a terminal that is offline or unknown. */
export function deviceOffline(): ContractError {
  return new ContractError(409, { success: false, error: 'device_offline_or_not_registered' });
}

/** The contract's answer when the terminal did not answer in time; the operation goes on. */
export function deviceTimeout(opId: string): ContractError {
  return new ContractError(504, { success: false, error: 'device_timeout', opId });
}

export function operationNotFound(): ApiError {
  return new ApiError(404, 'operation_not_found', 'No operation with this id');
}

export function invalidTransition(message: string): ApiError {
  return new ApiError(409, 'invalid_transition', message);
}

/** An operation id given by a caller: 400 `invalid_id` naming `field` when it is not an ObjectId. */
export function toObjectId(value: string, field: string): Types.ObjectId {
  if (!isObjectIdString(value)) throw new ApiError(400, 'invalid_id', `${field} must be a 24-character hex ObjectId`);
  return new Types.ObjectId(value);
}

/** No reply within the exchange's timeout. */
export class ExchangeTimeoutError extends Error {
  constructor(
    readonly cmd: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${cmd} within ${timeoutMs} ms`);
    this.name = 'ExchangeTimeoutError';
  }
}

/** The terminal's connection ended (or was replaced) while a command was in flight, or before it left. */
export class TerminalGoneError extends Error {
  constructor(readonly reason: string) {
    super(`terminal disconnected (${reason})`);
    this.name = 'TerminalGoneError';
  }
}

/** This instance is shutting down: the attempt is abandoned without touching the operation. */
export class DispatchStoppedError extends Error {
  constructor() {
    super('dispatcher stopped');
    this.name = 'DispatchStoppedError';
  }
}

/**
 * A background operation's exchange was given up because an operation asked through the API is
 * waiting for the same terminal: it goes back to the queue, behind it, without counting a send.
 */
export class PreemptedError extends Error {
  constructor() {
    super('preempted by an operation asked through the API');
    this.name = 'PreemptedError';
  }
}
