import { families, frameLabel } from './metrics';

/**
 * One-line hooks for the code that sees the events (gateway, dispatcher, outbox). Each is a
 * counter bump: no I/O, nothing that can throw into the caller.
 */

export function countFrameIn(frame: { kind: string; cmd?: unknown; ret?: unknown }): void {
  families.framesIn.inc({ cmd: frameLabel(frame.kind === 'invalid' ? 'invalid' : (frame.cmd ?? frame.ret)) });
}

export function countFrameOut(frame: Record<string, unknown>): void {
  families.framesOut.inc({ cmd: frameLabel(frame.cmd ?? frame.ret) });
}

export function countSocket(delta: 1 | -1): void {
  families.terminalSockets.inc(delta);
}

/** Wraps a terminal request's handling: the time until its answer went out (or it was dropped). */
export function timeTerminalRequest(cmd: string, task: () => Promise<void>): () => Promise<void> {
  const started = process.hrtime.bigint();
  const label = frameLabel(cmd);
  return () =>
    task().finally(() => families.terminalAck.observe({ cmd: label }, Number(process.hrtime.bigint() - started) / 1e9));
}

export function countPunches(
  source: string,
  counts: { stored?: number; duplicates?: number; rejected?: number },
): void {
  const label = ['sendlog', 'getnewlog', 'getalllog', 'device-log', 'app'].includes(source) ? source : 'other';
  if (counts.stored) families.punches.inc({ source: label, outcome: 'stored' }, counts.stored);
  if (counts.duplicates) families.punches.inc({ source: label, outcome: 'duplicate' }, counts.duplicates);
  if (counts.rejected) families.punches.inc({ source: label, outcome: 'rejected' }, counts.rejected);
}

/** An operation claimed for sending: how long it had been due. */
export function observeDispatch(op: { nextAttemptAt?: Date; createdAt?: Date }, now = Date.now()): void {
  const due = op.nextAttemptAt ?? op.createdAt;
  if (due) families.dispatch.observe(Math.max(0, now - due.getTime()) / 1000);
}

export function countForwardAttempt(target: string, result: { ok: boolean; status?: number; error?: string }): void {
  let outcome: string;
  if (result.ok) outcome = 'delivered';
  else if (result.status !== undefined) outcome = 'refused';
  else if (result.error?.endsWith('is not configured')) outcome = 'not_configured';
  else outcome = 'error';
  families.forwardAttempts.inc({ target: target === 'log' || target === 'fingerprint' ? target : 'other', outcome });
}
