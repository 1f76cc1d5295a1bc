import { ObjectId, type Document } from 'mongodb';
import { parseTerminalTime, type LogRecord } from '@app/device-protocol';

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Terminal wall time `YYYY-MM-DD HH:MM:SS` -> `YYYY-MM-DDTHH:MM:SS` (what the HR server receives). */
export function localTime(raw: string): string {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(raw.trim());
  if (!m) return raw;
  return `${m[1]}-${pad(+m[2])}-${pad(+m[3])}T${pad(+m[4])}:${pad(+m[5])}:${pad(+m[6])}`;
}

/** A terminal punch in the product's FingerPrintLog shape (src/fingerprints/schemas), not yet forwarded. */
export function punchDoc(sn: string, r: LogRecord, timeZone: string): Document {
  const instant = parseTerminalTime(r.time, timeZone);
  if (!instant || !Number.isInteger(r.enrollid) || r.enrollid <= 0) throw new Error('invalid record');
  const enrollid = String(r.enrollid);
  const mode = r.mode ?? null;
  const inout = r.inout ?? null;
  const event = r.event ?? 0;
  const now = new Date();
  const raw = { ...r.raw };
  delete raw.image;
  return {
    _id: new ObjectId(),
    enrollid,
    event,
    time: instant,
    device_sn: sn,
    device_name: null,
    device_type: 'terminal',
    employee: null,
    owner: null,
    location: null,
    macs: null,
    imageId: null,
    raw_time: r.time,
    local_time: localTime(r.time),
    time_zone: timeZone,
    mode,
    inout,
    verifymode: r.verifymode ?? null,
    temp: r.temp ?? null,
    logindex: null,
    source: 'sendlog',
    raw,
    dedupe_key: 't:' + JSON.stringify([sn, enrollid, instant.getTime(), mode, inout, event]),
    is_send: false,
    send_failed: false,
    forwardedAt: null,
    forwardResponse: null,
    last_attempt_error: null,
    last_attempt_at: null,
    forward_attempts: 0,
    forward_pending: true,
    next_attempt_at: now,
    claim_token: null,
    lease_until: new Date(0),
    createdAt: now,
    updatedAt: now,
  };
}
