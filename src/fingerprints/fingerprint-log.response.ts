import type { Types } from 'mongoose';
import type { FingerPrintLogRecord } from './fingerprint-log.repository';
import { PunchDeviceType, PunchLocation, PunchSource } from './schemas/fingerprint-log.schema';

/** A punch as the API shows it: no raw record, no claim internals, never image bytes. */
export interface FingerPrintLogResponse {
  _id: string;
  enrollid: string;
  event: number;
  time: Date;
  device_sn: string;
  device_name: string | null;
  device_type: PunchDeviceType;
  employee: string | null;
  owner: string | null;
  location?: PunchLocation | null;
  macs?: string | null;
  imageId: string | null;
  raw_time?: string | null;
  local_time?: string | null;
  time_zone?: string | null;
  mode?: number | null;
  inout?: number | null;
  verifymode?: number | null;
  temp?: number | null;
  logindex?: number | null;
  device_user_name?: string | null;
  clock_suspect?: boolean;
  source: PunchSource;
  is_send: boolean;
  send_failed: boolean;
  forwardedAt: Date | null;
  forwardResponse: unknown;
  last_attempt_error: string | null;
  last_attempt_at: Date | null;
  forward_attempts: number;
  next_attempt_at: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const idOrNull = (id: Types.ObjectId | null | undefined): string | null => (id ? id.toHexString() : null);

export function toFingerPrintLogResponse(doc: FingerPrintLogRecord): FingerPrintLogResponse {
  const base: FingerPrintLogResponse = {
    _id: doc._id.toHexString(),
    enrollid: doc.enrollid,
    event: doc.event,
    time: doc.time,
    device_sn: doc.device_sn,
    device_name: doc.device_name ?? null,
    device_type: doc.device_type,
    employee: idOrNull(doc.employee),
    owner: doc.owner ?? null,
    imageId: idOrNull(doc.imageId),
    source: doc.source,
    is_send: doc.is_send,
    send_failed: doc.send_failed,
    forwardedAt: doc.forwardedAt ?? null,
    forwardResponse: doc.forwardResponse ?? null,
    last_attempt_error: doc.last_attempt_error ?? null,
    last_attempt_at: doc.last_attempt_at ?? null,
    forward_attempts: doc.forward_attempts ?? 0,
    next_attempt_at: doc.next_attempt_at ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
  if (doc.device_type === PunchDeviceType.MobileApp) {
    return { ...base, location: doc.location ?? null, macs: doc.macs ?? null };
  }
  return {
    ...base,
    raw_time: doc.raw_time ?? null,
    local_time: doc.local_time ?? null,
    time_zone: doc.time_zone ?? null,
    mode: doc.mode ?? null,
    inout: doc.inout ?? null,
    verifymode: doc.verifymode ?? null,
    temp: doc.temp ?? null,
    logindex: doc.logindex ?? null,
    device_user_name: doc.device_user_name ?? null,
    clock_suspect: doc.clock_suspect === true,
  };
}
