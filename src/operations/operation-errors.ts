import { ContractError } from '@app/common';

/** The contract's answer for a terminal that is offline or unknown. */
export function deviceOffline(): ContractError {
  return new ContractError(409, { success: false, error: 'device_offline_or_not_registered' });
}

/** The contract's answer when the terminal did not answer in time; the operation goes on. */
export function deviceTimeout(opId: string): ContractError {
  return new ContractError(504, { success: false, error: 'device_timeout', opId });
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
