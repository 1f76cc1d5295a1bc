import { Injectable } from '@nestjs/common';
import { Types } from 'mongoose';
import { FingerPrintLogRepository, NewFingerPrintLog } from './fingerprint-log.repository';
import { InvalidPunchError, optionalInt, optionalNumber, readPunchTime, terminalDedupeKey } from './punch-record';
import { PunchDeviceType, PunchSource } from './schemas/fingerprint-log.schema';

export interface TerminalPunchInput {
  enrollid: number;
  /** Raw `YYYY-MM-DD HH:MM:SS` as sent (lenient forms accepted). */
  time: string;
  mode?: number;
  inout?: number;
  event?: number;
  verifymode?: number;
  temp?: number;
  logindex?: number;
  name?: string;
  imageId?: string;
  raw: Record<string, unknown>;
}

export interface StoreTerminalPunchesInput {
  sn: string;
  deviceName?: string;
  timeZone: string;
  source: 'sendlog' | 'getnewlog' | 'getalllog' | 'device-log';
  records: TerminalPunchInput[];
}

export interface StoreTerminalPunchesResult {
  stored: number;
  duplicates: number;
  /** Id of every record, in input order, whether new or stored before. */
  ids: string[];
}

@Injectable()
export class FingerprintsService {
  constructor(private readonly logs: FingerPrintLogRepository) {}

  /**
   * Stores a terminal frame's punches durably (resolves only once written) and deduplicated.
   * Rejects the whole frame, storing nothing, when one record is invalid (InvalidPunchError).
   */
  async storeTerminalPunches(input: StoreTerminalPunchesInput): Promise<StoreTerminalPunchesResult> {
    const docs = input.records.map((rec, index) => this.toTerminalDocument(input, rec, index));
    const { duplicateIndexes } = await this.logs.insertManyDeduplicated(docs);
    const ids = docs.map((d) => d._id.toHexString());
    if (duplicateIndexes.size > 0) {
      const keys = [...duplicateIndexes].map((i) => docs[i].dedupe_key);
      const existing = await this.logs.idsByDedupeKeys(keys);
      for (const i of duplicateIndexes) {
        const id = existing.get(docs[i].dedupe_key);
        if (!id) throw new Error(`punch ${docs[i].dedupe_key} reported as duplicate but not found`);
        ids[i] = id;
      }
    }
    return { stored: docs.length - duplicateIndexes.size, duplicates: duplicateIndexes.size, ids };
  }

  private toTerminalDocument(
    input: StoreTerminalPunchesInput,
    rec: TerminalPunchInput,
    index: number,
  ): NewFingerPrintLog {
    if (!Number.isInteger(rec.enrollid) || rec.enrollid <= 0) {
      throw new InvalidPunchError(index, `invalid enrollid ${JSON.stringify(rec.enrollid)}`);
    }
    const time = readPunchTime(rec.time, input.timeZone);
    if (!time) throw new InvalidPunchError(index, `invalid time ${JSON.stringify(rec.time)}`);
    if (rec.imageId !== undefined && !Types.ObjectId.isValid(rec.imageId)) {
      throw new InvalidPunchError(index, `invalid imageId ${JSON.stringify(rec.imageId)}`);
    }
    const enrollid = String(rec.enrollid);
    const mode = optionalInt(rec.mode);
    const inout = optionalInt(rec.inout);
    const event = optionalInt(rec.event) ?? 0;
    const now = new Date();
    return {
      _id: new Types.ObjectId(),
      enrollid,
      event,
      time: time.instant,
      device_sn: input.sn,
      device_name: input.deviceName ?? null,
      device_type: PunchDeviceType.Terminal,
      employee: null,
      owner: null,
      location: null,
      macs: null,
      imageId: rec.imageId ? new Types.ObjectId(rec.imageId) : null,
      raw_time: rec.time,
      local_time: time.localTime,
      time_zone: input.timeZone,
      mode,
      inout,
      verifymode: optionalInt(rec.verifymode),
      temp: optionalNumber(rec.temp),
      logindex: optionalInt(rec.logindex),
      source: input.source satisfies PunchSource,
      raw: sanitizeRaw(rec.raw),
      dedupe_key: terminalDedupeKey({ sn: input.sn, enrollid, instant: time.instant, mode, inout, event }),
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
    };
  }
}

/**
 * The raw record is kept for audits, but never the photo (stored apart, it can be megabytes), and
 * with keys MongoDB refuses (`$...`, dotted) renamed so an odd record cannot block its frame.
 */
function sanitizeRaw(raw: unknown, depth = 0): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (depth === 0 && key === 'image') continue;
    const safeKey = key.replace(/^\$/, '_').replace(/\./g, '_');
    out[safeKey] =
      value && typeof value === 'object' && !Array.isArray(value) && depth < 4 ? sanitizeRaw(value, depth + 1) : value;
  }
  return out;
}
