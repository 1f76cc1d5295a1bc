import { ProtocolError } from '@app/device-protocol';
import { AttemptPolicy, AttemptReport, decideAttemptOutcome } from './attempt-outcome';
import { DispatchStoppedError, ExchangeTimeoutError, PreemptedError, TerminalGoneError } from './operation-errors';
import { OperationStatus } from './schemas/operation.schema';

const NOW = new Date('2025-11-08T10:00:00.000Z');
/** random 0.5: the jitter factor is exactly 1, so each backoff is base * 2^(sends - 1), capped. */
const POLICY: AttemptPolicy = { now: NOW, retryBaseMs: 2_000, retryMaxMs: 60_000, random: 0.5 };

/** The claim already counted this send: attemptCount is the number of sends including this one. */
function report(attemptCount: number, extra: Partial<AttemptReport>, maxAttempts = 3): AttemptReport {
  return { op: { attemptCount, maxAttempts }, framesSent: 1, ...extra };
}

const at = (ms: number): Date => new Date(NOW.getTime() + ms);

describe('decideAttemptOutcome', () => {
  describe('the executor returned a result', () => {
    it('finishes success with the response', () => {
      expect(
        decideAttemptOutcome(report(1, { result: { status: 'success', response: { ret: 'gettime' } } }), POLICY),
      ).toEqual({ kind: 'finish', status: OperationStatus.Success, response: { ret: 'gettime' }, attemptDelta: 0 });
    });

    it('finishes failed with the terminal reason and keeps the response when there is one', () => {
      expect(
        decideAttemptOutcome(
          report(2, { result: { status: 'failed', lastError: 'device_error: reason 2', response: { result: false } } }),
          POLICY,
        ),
      ).toEqual({
        kind: 'finish',
        status: OperationStatus.Failed,
        response: { result: false },
        lastError: 'device_error: reason 2',
        attemptDelta: 0,
      });
      expect(decideAttemptOutcome(report(1, { result: { status: 'failed', lastError: 'x' } }), POLICY)).toEqual({
        kind: 'finish',
        status: OperationStatus.Failed,
        lastError: 'x',
        attemptDelta: 0,
      });
    });

    it('finishes a result even past maxAttempts (the terminal answered)', () => {
      expect(decideAttemptOutcome(report(5, { result: { status: 'success', response: {} } }, 3), POLICY)).toMatchObject(
        { kind: 'finish', status: OperationStatus.Success },
      );
    });

    it('takes back the send when no frame left the server', () => {
      expect(
        decideAttemptOutcome(
          report(1, { framesSent: 0, result: { status: 'failed', lastError: 'nothing to do' } }),
          POLICY,
        ),
      ).toMatchObject({ kind: 'finish', attemptDelta: -1 });
    });
  });

  it('abandons without a write when the dispatcher stops', () => {
    expect(decideAttemptOutcome(report(3, { failure: new DispatchStoppedError() }), POLICY)).toEqual({
      kind: 'abandon',
    });
  });

  it('fails an invalid payload at once, whatever the sends left', () => {
    expect(
      decideAttemptOutcome(
        report(1, { framesSent: 0, failure: new ProtocolError('enrollid must be an integer') }),
        POLICY,
      ),
    ).toEqual({
      kind: 'finish',
      status: OperationStatus.Failed,
      lastError: 'invalid_payload: enrollid must be an integer',
      attemptDelta: -1,
    });
  });

  it('requeues a preempted send at once without counting it, even on the last send', () => {
    expect(decideAttemptOutcome(report(3, { failure: new PreemptedError() }), POLICY)).toEqual({
      kind: 'requeue',
      nextAttemptAt: NOW,
      lastError: 'preempted: preempted by an operation asked through the API',
      attemptDelta: -1,
      backoff: false,
    });
  });

  describe('the terminal went away', () => {
    it('requeues at once (no backoff) while sends remain', () => {
      expect(decideAttemptOutcome(report(2, { failure: new TerminalGoneError('socket closed') }), POLICY)).toEqual({
        kind: 'requeue',
        nextAttemptAt: NOW,
        lastError: 'terminal_disconnected: socket closed',
        attemptDelta: 0,
        backoff: false,
      });
    });

    it('fails on the last send', () => {
      expect(decideAttemptOutcome(report(3, { failure: new TerminalGoneError('socket closed') }), POLICY)).toEqual({
        kind: 'finish',
        status: OperationStatus.Failed,
        lastError: 'terminal_disconnected: socket closed (after 3 sends)',
        attemptDelta: 0,
      });
    });

    it('does not count a send whose frame could not be written', () => {
      expect(
        decideAttemptOutcome(report(3, { framesSent: 0, failure: new TerminalGoneError('not connected') }), POLICY),
      ).toEqual({
        kind: 'requeue',
        nextAttemptAt: NOW,
        lastError: 'terminal_disconnected: not connected',
        attemptDelta: -1,
        backoff: false,
      });
    });
  });

  describe('no reply in time', () => {
    const timeout = new ExchangeTimeoutError('getdevinfo', 10_000);

    it('requeues after a backoff that doubles per send', () => {
      expect(decideAttemptOutcome(report(1, { failure: timeout }), POLICY)).toEqual({
        kind: 'requeue',
        nextAttemptAt: at(2_000),
        lastError: 'device_timeout: no reply to getdevinfo within 10000 ms',
        attemptDelta: 0,
        backoff: true,
      });
      expect(decideAttemptOutcome(report(2, { failure: timeout }), POLICY)).toMatchObject({
        kind: 'requeue',
        nextAttemptAt: at(4_000),
      });
    });

    it('caps the backoff at retryMaxMs and spreads it with the jitter', () => {
      expect(decideAttemptOutcome(report(9, { failure: timeout }, 20), POLICY)).toMatchObject({
        nextAttemptAt: at(60_000),
      });
      expect(decideAttemptOutcome(report(1, { failure: timeout }), { ...POLICY, random: 0 })).toMatchObject({
        nextAttemptAt: at(1_600),
      });
    });

    it('fails on the last send, saying how many were made', () => {
      expect(decideAttemptOutcome(report(3, { failure: timeout }), POLICY)).toEqual({
        kind: 'finish',
        status: OperationStatus.Failed,
        lastError: 'device_timeout: no reply to getdevinfo within 10000 ms (after 3 sends)',
        attemptDelta: 0,
      });
    });
  });

  describe('an unexpected error', () => {
    it('requeues after a backoff and asks for a warning', () => {
      expect(decideAttemptOutcome(report(1, { failure: new Error('boom') }), POLICY)).toEqual({
        kind: 'requeue',
        nextAttemptAt: at(2_000),
        lastError: 'internal_error: boom',
        attemptDelta: 0,
        backoff: true,
        unexpected: 'internal_error: boom',
      });
    });

    it('fails on the last send and still asks for a warning', () => {
      expect(decideAttemptOutcome(report(3, { failure: 'not an Error' }), POLICY)).toEqual({
        kind: 'finish',
        status: OperationStatus.Failed,
        lastError: 'internal_error: not an Error (after 3 sends)',
        attemptDelta: 0,
        unexpected: 'internal_error: not an Error',
      });
    });
  });
});
