import { ProtocolError } from '@app/device-protocol';
import { describeError } from '@app/common';
import type { ExecutionResult } from './executors/operation-executor';
import { retryDelayMs } from './operation-clock';
import { DispatchStoppedError, ExchangeTimeoutError, PreemptedError, TerminalGoneError } from './operation-errors';
import type { OperationRecord } from './operation.view';
import { OperationStatus } from './schemas/operation.schema';

/** What one attempt of an operation came to, as the dispatcher saw it. */
export interface AttemptReport {
  op: Pick<OperationRecord, 'attemptCount' | 'maxAttempts'>;
  /** Frames that left the server during the attempt (0: the command never reached the terminal). */
  framesSent: number;
  /** The executor's result, when it returned one. */
  result?: ExecutionResult;
  /** What the executor threw, when it did not return. */
  failure?: unknown;
}

export interface AttemptPolicy {
  now: Date;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A number in [0, 1) for the retry's jitter. */
  random: number;
}

/** The write the attempt calls for. `attemptDelta` -1 takes back a send that did not happen. */
export type AttemptDecision =
  | {
      kind: 'finish';
      status: OperationStatus.Success | OperationStatus.Failed;
      response?: Record<string, unknown>;
      lastError?: string;
      attemptDelta: number;
      /** Worth a warning in the log (not a terminal's answer, not a timeout). */
      unexpected?: string;
    }
  | {
      kind: 'requeue';
      nextAttemptAt: Date;
      lastError: string;
      attemptDelta: number;
      /** The send waits for a backoff: the dispatcher wakes the terminal's queue at `nextAttemptAt`. */
      backoff: boolean;
      unexpected?: string;
    }
  /** The instance is stopping: nothing is written, the lease expires and the send is made again. */
  | { kind: 'abandon' };

/**
 * Finish or requeue: the one place that decides what an attempt's outcome does to the operation.
 * A terminal's answer finishes it (success or failed); an invalid payload fails it at once; a
 * preemption puts it back at once without counting the send; a lost terminal puts it back at once,
 * a timeout or an internal error after a backoff — each until the sends reach `maxAttempts`.
 */
export function decideAttemptOutcome(report: AttemptReport, policy: AttemptPolicy): AttemptDecision {
  const { op, result, failure } = report;
  // A command that never left the server is not a send.
  const attemptDelta = report.framesSent === 0 ? -1 : 0;
  const sends = op.attemptCount + attemptDelta;
  const exhausted = sends >= op.maxAttempts;
  const { now } = policy;

  if (result) {
    return result.status === 'success'
      ? { kind: 'finish', status: OperationStatus.Success, response: result.response, attemptDelta }
      : {
          kind: 'finish',
          status: OperationStatus.Failed,
          ...(result.response !== undefined ? { response: result.response } : {}),
          lastError: result.lastError,
          attemptDelta,
        };
  }
  if (failure instanceof DispatchStoppedError) return { kind: 'abandon' };
  if (failure instanceof ProtocolError) {
    return {
      kind: 'finish',
      status: OperationStatus.Failed,
      lastError: `invalid_payload: ${failure.message}`,
      attemptDelta,
    };
  }
  if (failure instanceof PreemptedError) {
    // Not a failure of the terminal: queued again at once, behind the API operation, send not counted.
    return {
      kind: 'requeue',
      nextAttemptAt: now,
      lastError: `preempted: ${failure.message}`,
      attemptDelta: -1,
      backoff: false,
    };
  }
  if (failure instanceof TerminalGoneError) {
    // Sent again as soon as the terminal is back: no backoff.
    const lastError = `terminal_disconnected: ${failure.reason}`;
    return exhausted
      ? {
          kind: 'finish',
          status: OperationStatus.Failed,
          lastError: `${lastError} (after ${sends} sends)`,
          attemptDelta,
        }
      : { kind: 'requeue', nextAttemptAt: now, lastError, attemptDelta, backoff: false };
  }
  const timeout = failure instanceof ExchangeTimeoutError;
  const lastError = timeout ? `device_timeout: ${failure.message}` : `internal_error: ${describeError(failure)}`;
  const unexpected = timeout ? {} : { unexpected: lastError };
  if (exhausted) {
    return {
      kind: 'finish',
      status: OperationStatus.Failed,
      lastError: `${lastError} (after ${sends} sends)`,
      attemptDelta,
      ...unexpected,
    };
  }
  const delay = retryDelayMs(sends, policy.retryBaseMs, policy.retryMaxMs, policy.random);
  return {
    kind: 'requeue',
    nextAttemptAt: new Date(now.getTime() + delay),
    lastError,
    attemptDelta,
    backoff: true,
    ...unexpected,
  };
}
