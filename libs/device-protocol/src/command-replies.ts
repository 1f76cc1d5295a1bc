import {
  type Json,
  type ParseResult,
  describe,
  isPlainObject,
  parseEnrollId,
  toBool,
  toFlag,
  toInt,
  toNumber,
  toReason,
  toStr,
} from './coerce';
import { readCredentialRecord } from './credentials';
import { SETDEVLOCK_RULES, isServerCommand, replyHasResult, replyMatchesCommand } from './server-commands';
import { splitLogRecords } from './terminal-requests';
import {
  type CommandReply,
  type DeviceSettings,
  type DoorLockSettings,
  type GetLogReply,
  type GetUserListReply,
  type Questionnaire,
  type ReplyData,
  type ServerCommand,
  type UserListRow,
  type UserLock,
} from './types';

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function optEnrollId(msg: Json, allowZero = false): ParseResult<number | undefined> {
  if (msg.enrollid === undefined || msg.enrollid === null) return { ok: true, value: undefined };
  return parseEnrollId(msg.enrollid, { allowZero });
}

function assignInts<T extends object>(target: T, msg: Json, keys: readonly string[]): T {
  for (const key of keys) {
    const n = toInt(msg[key]);
    if (n !== undefined) (target as Json)[key] = n;
  }
  return target;
}

function userList(msg: Json): ParseResult<GetUserListReply> {
  const list = msg.record ?? msg.data ?? [];
  if (!Array.isArray(list)) return fail(`record is ${describe(list)}, not a list`);
  const records: UserListRow[] = [];
  for (let i = 0; i < list.length; i++) {
    const row: unknown = list[i];
    if (!isPlainObject(row)) return fail(`record[${i}] is ${describe(row)}, not an object`);
    const enrollid = parseEnrollId(row.enrollid);
    if (!enrollid.ok) return fail(`record[${i}]: ${enrollid.reason}`);
    const backupnum = toInt(row.backupnum);
    if (backupnum === undefined || backupnum < 0)
      return fail(`record[${i}]: backupnum ${describe(row.backupnum)} is not valid`);
    const out: UserListRow = { enrollid: enrollid.value, backupnum, raw: row };
    const admin = toInt(row.admin);
    if (admin !== undefined) out.admin = admin;
    records.push(out);
  }
  return { ok: true, value: assignInts({ count: toInt(msg.count) ?? records.length, records }, msg, ['from', 'to']) };
}

function logList(msg: Json): ParseResult<GetLogReply> {
  const list = msg.record ?? msg.data;
  if (list !== undefined && list !== null && !Array.isArray(list))
    return fail(`record is ${describe(list)}, not a list`);
  const split = splitLogRecords(msg);
  if (!split.ok) return split;
  return {
    ok: true,
    value: assignInts({ records: split.value.records, rejected: split.value.rejected }, msg, ['count', 'from', 'to']),
  };
}

function userInfo(msg: Json): ParseResult<ReplyData['getuserinfo']> {
  const enrollid = optEnrollId(msg);
  if (!enrollid.ok) return enrollid;
  const value: ReplyData['getuserinfo'] = assignInts({}, msg, ['backupnum', 'admin']);
  if (enrollid.value !== undefined) value.enrollid = enrollid.value;
  const name = toStr(msg.name);
  if (name !== undefined) value.name = name;
  const record = readCredentialRecord(value.backupnum, msg.record);
  if (record !== undefined) value.record = record;
  return { ok: true, value };
}

function withEnrollId(allowZero = false) {
  return (msg: Json): ParseResult<{ enrollid?: number }> => {
    const enrollid = optEnrollId(msg, allowZero);
    if (!enrollid.ok) return enrollid;
    return { ok: true, value: enrollid.value === undefined ? {} : { enrollid: enrollid.value } };
  };
}

const DEVICE_SETTINGS_INTS = [
  'deviceid',
  'language',
  'volume',
  'screensaver',
  'verifymode',
  'userfpnum',
  'loghint',
  'reverifytime',
] as const;

function deviceSettings(msg: Json): ParseResult<DeviceSettings> {
  const value: DeviceSettings = assignInts({}, msg, DEVICE_SETTINGS_INTS);
  const sleep = toFlag(msg.sleep);
  if (sleep !== undefined) value.sleep = sleep;
  return { ok: true, value };
}

/** The integer settings of `setdevlock`/`getdevlock`, read back from a `getdevlock` reply. */
export const DOOR_LOCK_INTS: readonly string[] = Object.keys(SETDEVLOCK_RULES);

function doorLock(msg: Json): ParseResult<DoorLockSettings> {
  const { ret: _ret, sn: _sn, result: _result, ...rest } = msg;
  const value: DoorLockSettings = { ...rest };
  for (const key of DOOR_LOCK_INTS) {
    if (rest[key] === undefined) continue;
    const n = toInt(rest[key]);
    if (n === undefined) delete value[key];
    else value[key] = n;
  }
  return { ok: true, value };
}

function userLock(msg: Json): ParseResult<Partial<UserLock>> {
  const enrollid = optEnrollId(msg);
  if (!enrollid.ok) return enrollid;
  const value: Partial<UserLock> = assignInts({}, msg, ['weekzone', 'weekzone2', 'weekzone3', 'weekzone4', 'group']);
  if (enrollid.value !== undefined) value.enrollid = enrollid.value;
  for (const key of ['starttime', 'endtime'] as const) {
    const s = toStr(msg[key]);
    if (s !== undefined) value[key] = s;
  }
  return { ok: true, value };
}

function questionnaire(msg: Json): ParseResult<Questionnaire> {
  const { ret: _ret, sn: _sn, result: _result, ...rest } = msg;
  const value: Questionnaire = { ...rest };
  for (const key of ['radio', 'usequestion', 'useschedule', 'card'] as const) {
    const b = toBool(rest[key]);
    if (b !== undefined) value[key] = b;
  }
  const optionflag = toInt(rest.optionflag);
  if (optionflag !== undefined) value.optionflag = optionflag;
  for (const key of ['items', 'schedules'] as const) {
    if (Array.isArray(rest[key])) value[key] = rest[key].map((x) => toStr(x) ?? '');
  }
  return { ok: true, value };
}

function devCap(msg: Json): ParseResult<Record<string, number>> {
  const value: Record<string, number> = {};
  for (const [key, v] of Object.entries(msg)) {
    if (key === 'ret' || key === 'sn' || key === 'result') continue;
    const n = toNumber(v);
    if (n !== undefined) value[key] = n;
  }
  return { ok: true, value };
}

function passThrough(msg: Json): ParseResult<Json> {
  const { ret: _ret, sn: _sn, result: _result, ...rest } = msg;
  return { ok: true, value: rest };
}

type DataParser<C extends ServerCommand> = (msg: Json) => ParseResult<ReplyData[C]>;

const PARSERS: { [C in ServerCommand]: DataParser<C> } = {
  getuserlist: userList,
  getuserinfo: userInfo,
  setuserinfo: withEnrollId(),
  deleteuser: passThrough,
  getusername: (msg) => {
    const enrollid = optEnrollId(msg);
    if (!enrollid.ok) return enrollid;
    const name = toStr(msg.record) ?? toStr(msg.name) ?? '';
    return { ok: true, value: enrollid.value === undefined ? { name } : { enrollid: enrollid.value, name } };
  },
  setusername: passThrough,
  enableuser: passThrough,
  cleanuser: passThrough,
  getnewlog: logList,
  getalllog: logList,
  cleanlog: passThrough,
  initsys: passThrough,
  reboot: passThrough,
  cleanadmin: passThrough,
  settime: passThrough,
  setdevinfo: passThrough,
  getdevinfo: deviceSettings,
  opendoor: passThrough,
  setdevlock: passThrough,
  getdevlock: doorLock,
  getuserlock: userLock,
  setuserlock: passThrough,
  deleteuserlock: passThrough,
  cleanuserlock: passThrough,
  gettime: (msg) => {
    const time = toStr(msg.time);
    return { ok: true, value: time === undefined ? {} : { time } };
  },
  getquestionnaire: questionnaire,
  setquestionnaire: passThrough,
  getholiday: (msg) => {
    const list = msg.holidays ?? [];
    if (!Array.isArray(list)) return fail(`holidays is ${describe(list)}, not a list`);
    return { ok: true, value: { holidays: list.filter(isPlainObject) } };
  },
  setholiday: passThrough,
  setuserprofile: withEnrollId(true),
  getuserprofile: (msg) => {
    const enrollid = optEnrollId(msg, true);
    if (!enrollid.ok) return enrollid;
    const profile = toStr(msg.record) ?? toStr(msg.profile) ?? '';
    return { ok: true, value: enrollid.value === undefined ? { profile } : { enrollid: enrollid.value, profile } };
  },
  adduser: withEnrollId(),
  getdevcap: devCap,
  lockctrl: passThrough,
};

/**
 * Reads a terminal's reply to `cmd`. `success` follows `result` (booleans, 0/1 and "true" accepted);
 * gettime has no result key and is a success. A reply whose data cannot be understood (a bad
 * enroll id in a user list, a log record without a time) is `ok:false` as a whole.
 */
export function parseCommandReply<C extends ServerCommand>(cmd: C, msg: Json): ParseResult<CommandReply<C>> {
  if (!isServerCommand(cmd)) return fail(`unknown command "${String(cmd)}"`);
  const ret = typeof msg.ret === 'string' ? msg.ret : '';
  if (!replyMatchesCommand(cmd, ret)) return fail(`reply "${ret}" does not answer "${cmd}"`);
  const sn = toStr(msg.sn);
  const head = { cmd, ret, raw: msg, ...(sn !== undefined ? { sn } : {}) };

  let success: boolean | undefined;
  if (msg.result === undefined || msg.result === null) success = replyHasResult(cmd) ? undefined : true;
  else success = toBool(msg.result);
  if (success === undefined) return fail(`${cmd} reply has no usable result (got ${describe(msg.result)})`);

  if (!success) {
    const reason = toReason(msg.reason);
    return { ok: true, value: { ...head, success: false, ...(reason !== undefined ? { reason } : {}) } };
  }
  const parser = PARSERS[cmd] as DataParser<C>;
  const data = parser(msg);
  if (!data.ok) return fail(`${cmd} reply: ${data.reason}`);
  return { ok: true, value: { ...head, success: true, data: data.value } };
}
