import { randomBytes } from 'node:crypto';

/** Which HR endpoint: `log` (terminal and device-log punches) or `fingerprint` (mobile app punches). */
export type ForwardTarget = 'log' | 'fingerprint';

export interface ForwardRecord {
  enrollid: number | string;
  time: string;
  event: number;
}

export interface ForwardPayload {
  sn: string;
  record: ForwardRecord[];
}

/** What the outbox knows about a punch, enough to forward it. */
export interface ForwardablePunch {
  enrollid: string;
  event: number;
  /** The instant of the punch. */
  time: Date;
  device_type: 'terminal' | 'mobile_app';
  /** Terminal wall time `YYYY-MM-DDTHH:MM:SS` (terminal punches). */
  local_time?: string | null;
}

export function targetFor(deviceType: ForwardablePunch['device_type']): ForwardTarget {
  return deviceType === 'mobile_app' ? 'fingerprint' : 'log';
}

/** The HR server keys on a number; an id that is not one is sent as it is rather than as NaN. */
export function forwardEnrollId(enrollid: string): number | string {
  return /^\d{1,15}$/.test(enrollid) ? Number(enrollid) : enrollid;
}

/**
 * App punches carry the server's instant in ISO 8601 UTC (`...Z`); terminal punches the terminal's
 * own wall time without a zone, as the terminal showed it.
 */
export function forwardTime(punch: ForwardablePunch): string {
  if (punch.device_type === 'mobile_app') return punch.time.toISOString();
  return punch.local_time ?? punch.time.toISOString().slice(0, 19);
}

export function toForwardRecord(punch: ForwardablePunch): ForwardRecord {
  return { enrollid: forwardEnrollId(punch.enrollid), time: forwardTime(punch), event: punch.event };
}

export function buildForwardPayload(sn: string, punches: ForwardablePunch[]): ForwardPayload {
  return { sn, record: punches.map(toForwardRecord) };
}

/**
 * A new batch's Idempotency-Key (40 hex digits). It is stored on the batch's punches before the
 * first request, so the key, not a recomputation, is what ties a retry to the same records.
 */
export function newBatchKey(): string {
  return randomBytes(20).toString('hex');
}

export function chunk<T>(items: T[], size: number): T[][] {
  if (size < 1) throw new RangeError('chunk size must be at least 1');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const NOT_CONFIRMED = 'Remote server did not confirm receipt';

export interface ConfirmationRule {
  required: boolean;
  field: string;
}

/** Delivered = a 2xx answer whose JSON body has `field` === true (or any 2xx when not required). */
export function isConfirmed(status: number, body: unknown, rule: ConfirmationRule): boolean {
  if (status < 200 || status > 299) return false;
  if (!rule.required) return true;
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>)[rule.field] === true;
}
