import {
  type Json,
  type ParseResult,
  describe,
  isPlainObject,
  parseEnrollId,
  parseSn,
  toInt,
  toNumber,
  toStr,
} from './coerce';
import { readCredentialRecord } from './credentials';
import { isTerminalTimeSyntax } from './terminal-time';
import {
  DEVINFO_NUMBER_FIELDS,
  DEVINFO_STRING_FIELDS,
  type DevInfo,
  type LogRecord,
  type QrcodeRequest,
  type RegRequest,
  type RejectedLogRecord,
  type SendlogRequest,
  type SenduserRequest,
  type SplitLogRecords,
} from './types';

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** Devinfo: known numbers coerced (dropped when not numeric), known strings kept, unknown keys kept as sent. */
export function parseDevInfo(v: unknown): DevInfo {
  if (!isPlainObject(v)) return {};
  const out: DevInfo = {};
  const numeric = new Set<string>(DEVINFO_NUMBER_FIELDS);
  const textual = new Set<string>(DEVINFO_STRING_FIELDS);
  for (const [key, value] of Object.entries(v)) {
    if (numeric.has(key)) {
      const n = toNumber(value);
      if (n !== undefined) out[key] = n;
    } else if (textual.has(key)) {
      const s = toStr(value);
      if (s !== undefined) out[key] = s;
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function parseReg(msg: Json): ParseResult<RegRequest> {
  const sn = parseSn(msg.sn);
  if (!sn.ok) return sn;
  const cpusn = toStr(msg.cpusn)?.trim();
  return {
    ok: true,
    value: { sn: sn.value, ...(cpusn ? { cpusn } : {}), devinfo: parseDevInfo(msg.devinfo), raw: msg },
  };
}

function optionalInt(rec: Json, key: string): number | undefined {
  return rec[key] === undefined || rec[key] === null ? undefined : toInt(rec[key]);
}

/**
 * One log record (sendlog, getnewlog, getalllog). `enrollid` and `time` must be usable or the
 * record is rejected; `attmode` / `verify` stand in for a missing `mode`.
 */
export function parseLogRecord(v: unknown): ParseResult<LogRecord> {
  if (!isPlainObject(v)) return fail(`record is ${describe(v)}, not an object`);
  const enrollid = parseEnrollId(v.enrollid, { allowZero: true });
  if (!enrollid.ok) return enrollid;
  if (!isTerminalTimeSyntax(v.time)) return fail(`time ${describe(v.time)} is not a terminal time`);
  // event and inout reach the HR server and the dedupe key: one that is there but no integer makes
  // the record rejected (kept with its reason), never silently 0. An unreadable mode stays in raw.
  for (const key of ['inout', 'event'] as const) {
    if (v[key] !== undefined && v[key] !== null && toInt(v[key]) === undefined) {
      return fail(`${key} ${describe(v[key])} is not an integer`);
    }
  }
  const mode = optionalInt(v, 'mode') ?? optionalInt(v, 'attmode') ?? optionalInt(v, 'verify');
  const temp = v.temp === undefined || v.temp === null ? undefined : toNumber(v.temp);
  const { image, ...raw } = v;
  const rec: LogRecord = { enrollid: enrollid.value, time: v.time, raw };
  if (mode !== undefined) rec.mode = mode;
  for (const key of ['inout', 'event', 'verifymode'] as const) {
    const n = optionalInt(v, key);
    if (n !== undefined) rec[key] = n;
  }
  if (temp !== undefined) rec.temp = temp;
  if (typeof image === 'string' && image.length > 0) rec.image = image;
  const name = toStr(v.name);
  if (name !== undefined) rec.name = name;
  return { ok: true, value: rec };
}

/** Records under `record` (or `data`, seen on some firmware); a single object counts as one record. */
export function parseLogRecords(msg: Json): ParseResult<LogRecord[]> {
  const split = splitLogRecords(msg);
  if (!split.ok) return split;
  const first = split.value.rejected[0];
  if (first) return fail(`record[${first.index}]: ${first.reason}`);
  return { ok: true, value: split.value.records };
}

/**
 * The records of a frame split into the usable ones and the rejected ones (kept verbatim with
 * their reason): one bad record never blocks the others. Fails only when the list is not a list.
 */
export function splitLogRecords(msg: Json): ParseResult<SplitLogRecords> {
  const list = msg.record ?? msg.data;
  if (list === undefined || list === null) return { ok: true, value: { records: [], rejected: [] } };
  const items = Array.isArray(list) ? list : isPlainObject(list) ? [list] : undefined;
  if (!items) return fail(`record is ${describe(list)}, not a list`);
  const records: LogRecord[] = [];
  const rejected: RejectedLogRecord[] = [];
  for (let i = 0; i < items.length; i++) {
    const rec = parseLogRecord(items[i]);
    if (rec.ok) records.push(rec.value);
    else rejected.push({ index: i, raw: items[i], reason: rec.reason });
  }
  return { ok: true, value: { records, rejected } };
}

/**
 * A sendlog frame: its usable records and its rejected ones. Only a frame without a record list
 * at all is refused, so a terminal is never stuck resending a frame for one bad record.
 */
export function parseSendlog(msg: Json): ParseResult<SendlogRequest> {
  const sn = parseSn(msg.sn);
  if (!sn.ok) return sn;
  if (msg.record === undefined && msg.data === undefined) return fail('sendlog has no record list');
  const split = splitLogRecords(msg);
  if (!split.ok) return split;
  const value: SendlogRequest = { sn: sn.value, records: split.value.records, rejected: split.value.rejected };
  const count = toInt(msg.count);
  const logindex = toInt(msg.logindex);
  if (count !== undefined) value.count = count;
  if (logindex !== undefined) value.logindex = logindex;
  return { ok: true, value };
}

export function parseSenduser(msg: Json): ParseResult<SenduserRequest> {
  const sn = parseSn(msg.sn);
  if (!sn.ok) return sn;
  const enrollid = parseEnrollId(msg.enrollid);
  if (!enrollid.ok) return enrollid;
  const value: SenduserRequest = { sn: sn.value, enrollid: enrollid.value, raw: msg };
  if (msg.backupnum !== undefined) {
    const backupnum = toInt(msg.backupnum);
    if (backupnum === undefined || backupnum < 0) return fail(`backupnum ${describe(msg.backupnum)} is not valid`);
    value.backupnum = backupnum;
  }
  const admin = optionalInt(msg, 'admin');
  if (admin !== undefined) value.admin = admin;
  const name = toStr(msg.name);
  if (name !== undefined) value.name = name;
  const record = readCredentialRecord(value.backupnum, msg.record);
  if (record !== undefined) value.record = record;
  return { ok: true, value };
}

export function parseQrcode(msg: Json): ParseResult<QrcodeRequest> {
  const sn = parseSn(msg.sn);
  if (!sn.ok) return sn;
  const record = toStr(msg.record);
  if (record === undefined || record.length === 0) return fail('sendqrcode has no QR text in record');
  return { ok: true, value: { sn: sn.value, record, raw: msg } };
}
