import { type Json, MAX_ENROLL_ID, describe, isPlainObject, toFlag, toInt, toStr } from './coerce';
import { isCredentialSlot, isDeleteSlot, normaliseCredentialRecord } from './credentials';
import { ProtocolError } from './protocol-error';
import {
  formatTerminalTime,
  isValidTimeZone,
  normaliseTerminalDate,
  normaliseWallClockText,
  parseTerminalTime,
} from './terminal-time';
import { type CommandFrame, SERVER_COMMANDS, type ServerCommand } from './types';

export { SERVER_COMMANDS } from './types';

export function isServerCommand(s: unknown): s is ServerCommand {
  return typeof s === 'string' && (SERVER_COMMANDS as readonly string[]).includes(s);
}

/** `reboot` is never answered: the terminal restarts and registers again. */
export function commandExpectsReply(cmd: string): boolean {
  return cmd !== 'reboot';
}

/** `gettime` answers without a `result` key; its reply is a success when it arrives. */
export function replyHasResult(cmd: string): boolean {
  return cmd !== 'gettime';
}

/**
 * Whether a `ret` answers `cmd`. The vendor's own getdevlock failure example carries
 * `ret:"setdevlock"`, so that pairing is accepted too (one command is in flight per terminal).
 */
export function replyMatchesCommand(cmd: string, ret: string): boolean {
  const r = ret.trim().toLowerCase();
  return r === cmd || (cmd === 'getdevlock' && r === 'setdevlock');
}

export const USERLIST_PAGE_SIZE = 40;
export const LOG_PAGE_SIZE = 50;
export const SETUSERNAME_MAX_RECORDS = 49;
export const SETUSERLOCK_MAX_RECORDS = 40;
export const HOLIDAYS_MAX = 30;
export const PROFILE_MAX_BYTES = 200;
/** flag value of adduser meaning "automatic registration" */
export const ADDUSER_FLAG_AUTO = 10;

interface IntRule {
  min?: number;
  max?: number;
}

/** Reads one payload field at a time and names the command and field when something is wrong. */
class PayloadReader {
  constructor(
    private readonly cmd: string,
    private readonly payload: Json,
  ) {}

  fail(field: string, problem: string): never {
    throw new ProtocolError(`${this.cmd}: ${field} ${problem}`, field);
  }

  has(key: string): boolean {
    return this.payload[key] !== undefined && this.payload[key] !== null;
  }

  raw(key: string): unknown {
    return this.payload[key];
  }

  int(key: string, rule: IntRule = {}, value: unknown = this.payload[key]): number {
    if (value === undefined || value === null) this.fail(key, 'is required');
    const n = toInt(value);
    if (n === undefined) this.fail(key, `must be an integer (got ${describe(value)})`);
    if ((rule.min !== undefined && n < rule.min) || (rule.max !== undefined && n > rule.max)) {
      this.fail(key, `must be between ${rule.min ?? '-∞'} and ${rule.max ?? '∞'} (got ${n})`);
    }
    return n;
  }

  optInt(key: string, rule: IntRule = {}): number | undefined {
    return this.has(key) ? this.int(key, rule) : undefined;
  }

  enrollid(key = 'enrollid', allowZero = false, value: unknown = this.payload[key]): number {
    return this.int(key, { min: allowZero ? 0 : 1, max: MAX_ENROLL_ID }, value);
  }

  flag(key: string, value: unknown = this.payload[key]): 0 | 1 {
    if (value === undefined || value === null) this.fail(key, 'is required');
    const f = toFlag(value);
    if (f === undefined) this.fail(key, `must be 0/1 or a boolean (got ${describe(value)})`);
    return f;
  }

  bool(key: string, fallback: boolean): boolean {
    return this.has(key) ? this.flag(key) === 1 : fallback;
  }

  str(key: string, opts: { maxBytes?: number; allowEmpty?: boolean } = {}, value: unknown = this.payload[key]): string {
    if (value === undefined || value === null) this.fail(key, 'is required');
    const s = toStr(value);
    if (s === undefined) this.fail(key, `must be text (got ${describe(value)})`);
    if (!opts.allowEmpty && s.length === 0) this.fail(key, 'must not be empty');
    if (opts.maxBytes !== undefined && Buffer.byteLength(s, 'utf8') > opts.maxBytes) {
      this.fail(key, `must be at most ${opts.maxBytes} bytes`);
    }
    return s;
  }

  optStr(key: string, opts: { maxBytes?: number; allowEmpty?: boolean } = {}): string | undefined {
    return this.has(key) ? this.str(key, opts) : undefined;
  }

  list(key: string, opts: { min?: number; max?: number } = {}): unknown[] {
    const v = this.payload[key];
    if (!Array.isArray(v)) this.fail(key, `must be a list (got ${describe(v)})`);
    if (opts.min !== undefined && v.length < opts.min) this.fail(key, `needs at least ${opts.min} entries`);
    if (opts.max !== undefined && v.length > opts.max) this.fail(key, `allows at most ${opts.max} entries`);
    return v;
  }

  object(key: string, value: unknown): Json {
    if (!isPlainObject(value)) this.fail(key, `must be an object (got ${describe(value)})`);
    return value;
  }
}

function paged(r: PayloadReader): Json {
  return { stn: r.bool('stn', true) };
}

function credentialSlot(r: PayloadReader): number {
  const backupnum = r.int('backupnum', { min: 0 });
  if (!isCredentialSlot(backupnum)) r.fail('backupnum', `${backupnum} is not a credential slot`);
  return backupnum;
}

function wrap(r: PayloadReader, field: string, fn: () => string | number): string | number {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtocolError) r.fail(field, err.message.replace(/^record /, ''));
    throw err;
  }
}

/** Extended setuserinfo fields (#37) that are integers on the wire. */
const SETUSERINFO_EXTENDED_INTS = ['verifymode', 'enable', 'shiftid', 'zoneid', 'groupid', 'access_times', 'postid'];
const SETUSERINFO_EXTENDED_TEXT = ['department', 'starttime', 'endtime'];

function setuserinfo(r: PayloadReader): Json {
  const enrollid = r.enrollid();
  const backupnum = credentialSlot(r);
  if (!r.has('record')) r.fail('record', 'is required');
  const record = wrap(r, 'record', () => normaliseCredentialRecord(backupnum, r.raw('record')));
  const frame: Json = { enrollid, backupnum, record };
  const name = r.optStr('name', { allowEmpty: true });
  if (name !== undefined) frame.name = name;
  const admin = r.optInt('admin', { min: 0, max: 2 });
  if (admin !== undefined) frame.admin = admin;
  for (const key of SETUSERINFO_EXTENDED_INTS) {
    const v = r.optInt(key, { min: 0 });
    if (v !== undefined) frame[key] = v;
  }
  for (const key of SETUSERINFO_EXTENDED_TEXT) {
    const v = r.optStr(key, { allowEmpty: true });
    if (v !== undefined) frame[key] = v;
  }
  if (r.has('card')) frame.card = wrap(r, 'card', () => normaliseCredentialRecord(11, r.raw('card')));
  if (r.has('pwd')) frame.pwd = wrap(r, 'pwd', () => normaliseCredentialRecord(10, r.raw('pwd')));
  return frame;
}

function setusername(r: PayloadReader): Json {
  const rows = r.list('record', { min: 1, max: SETUSERNAME_MAX_RECORDS });
  const record = rows.map((row, i) => {
    const o = r.object(`record[${i}]`, row);
    return {
      enrollid: r.enrollid(`record[${i}].enrollid`, false, o.enrollid),
      name: r.str(`record[${i}].name`, { allowEmpty: true }, o.name),
    };
  });
  return { count: record.length, record };
}

function settime(r: PayloadReader): Json {
  const tz = r.raw('timeZone');
  const cloudtime = r.raw('cloudtime') ?? r.raw('time');
  if (tz !== undefined && !isValidTimeZone(tz)) r.fail('timeZone', `${describe(tz)} is not a known IANA time zone`);
  if (cloudtime === undefined || cloudtime === null) {
    if (typeof tz !== 'string') r.fail('cloudtime', 'is required (or give timeZone to send the current time)');
    return { cloudtime: formatTerminalTime(new Date(), tz) };
  }
  if (cloudtime instanceof Date) {
    if (typeof tz !== 'string') r.fail('timeZone', 'is required when cloudtime is a Date');
    return { cloudtime: formatTerminalTime(cloudtime, tz) };
  }
  if (typeof cloudtime !== 'string') r.fail('cloudtime', `must be a time text (got ${describe(cloudtime)})`);
  const wall = normaliseWallClockText(cloudtime);
  if (wall) return { cloudtime: wall };
  if (typeof tz === 'string') {
    const instant = parseTerminalTime(cloudtime, tz);
    if (instant) return { cloudtime: formatTerminalTime(instant, tz) };
  }
  return r.fail('cloudtime', `"${cloudtime}" is not a time (expected YYYY-MM-DD HH:MM:SS)`);
}

const SETDEVINFO_RULES: Record<string, IntRule> = {
  deviceid: { min: 0 },
  language: { min: 0, max: 255 },
  volume: { min: 0, max: 10 },
  screensaver: { min: 0, max: 255 },
  verifymode: { min: 0, max: 255 },
  userfpnum: { min: 1, max: 10 },
  loghint: { min: 0 },
  reverifytime: { min: 0, max: 255 },
};

function setdevinfo(r: PayloadReader): Json {
  const frame: Json = {};
  for (const [key, rule] of Object.entries(SETDEVINFO_RULES)) {
    const v = r.optInt(key, rule);
    if (v !== undefined) frame[key] = v;
  }
  if (r.has('sleep')) frame.sleep = r.flag('sleep');
  if (Object.keys(frame).length === 0)
    r.fail('payload', `needs at least one of ${[...Object.keys(SETDEVINFO_RULES), 'sleep'].join(', ')}`);
  return frame;
}

/** The integer settings of `setdevlock`/`getdevlock` with their ranges (spelled as the vendor spec spells them). */
export const SETDEVLOCK_RULES: Record<string, IntRule> = {
  opendelay: { min: 0, max: 255 },
  doorsensor: { min: 0, max: 2 },
  alarmdelay: { min: 0, max: 255 },
  threat: { min: 0, max: 3 },
  InputAlarm: { min: 0, max: 2 },
  antpass: { min: 0, max: 2 },
  interlock: { min: 0, max: 255 },
  mutiopen: { min: 0, max: 4 },
  tryalarm: { min: 0, max: 10 },
  tamper: { min: 0, max: 255 },
  wgformat: { min: 0, max: 1 },
  wgoutput: { min: 0, max: 2 },
  cardoutput: { min: 0, max: 255 },
  access_times: { min: 0 },
  punchtimes: { min: 0 },
};

const SECTION_RE = /^([01]\d|2[0-3]):[0-5]\d~([01]\d|2[0-3]):[0-5]\d$/;

function dayzones(r: PayloadReader): Json[] {
  return r.list('dayzone', { min: 1, max: 8 }).map((z, i) => {
    const sections = r.object(`dayzone[${i}]`, z).day;
    if (!Array.isArray(sections) || sections.length > 5)
      r.fail(`dayzone[${i}].day`, 'must be a list of at most 5 sections');
    return {
      day: sections.map((s, j) => {
        const section = r.str(`dayzone[${i}].day[${j}].section`, {}, r.object(`dayzone[${i}].day[${j}]`, s).section);
        if (!SECTION_RE.test(section)) r.fail(`dayzone[${i}].day[${j}].section`, 'must look like HH:MM~HH:MM');
        return { section };
      }),
    };
  });
}

function weekzones(r: PayloadReader): Json[] {
  return r.list('weekzone', { min: 1, max: 8 }).map((z, i) => {
    const days = r.object(`weekzone[${i}]`, z).week;
    if (!Array.isArray(days) || days.length !== 7) r.fail(`weekzone[${i}].week`, 'must list 7 days, Monday first');
    return {
      week: days.map((d, j) => ({
        day: r.int(`weekzone[${i}].week[${j}].day`, { min: 0, max: 8 }, r.object(`weekzone[${i}].week[${j}]`, d).day),
      })),
    };
  });
}

function setdevlock(r: PayloadReader): Json {
  const frame: Json = {};
  for (const [key, rule] of Object.entries(SETDEVLOCK_RULES)) {
    // The wire spells it InputAlarm; accept a lower-case payload key as the same field.
    const value = key === 'InputAlarm' ? (r.raw('InputAlarm') ?? r.raw('inputalarm')) : r.raw(key);
    if (value !== undefined && value !== null) frame[key] = r.int(key, rule, value);
  }
  if (r.has('dayzone')) frame.dayzone = dayzones(r);
  if (r.has('weekzone')) frame.weekzone = weekzones(r);
  if (r.has('lockgroup')) {
    frame.lockgroup = r.list('lockgroup', { max: 32 }).map((g, i) => {
      const group = toStr(r.object(`lockgroup[${i}]`, g).group);
      if (group === undefined || !/^\d{1,10}$/.test(group)) r.fail(`lockgroup[${i}].group`, 'must be digits');
      return { group: Number(group) };
    });
  }
  if (Object.keys(frame).length === 0) r.fail('payload', 'needs at least one door-lock field');
  return frame;
}

function userLockRow(r: PayloadReader, field: string, row: unknown): Json {
  const o = r.object(field, row);
  const out: Json = { enrollid: r.enrollid(`${field}.enrollid`, false, o.enrollid) };
  for (const key of ['weekzone', 'weekzone2', 'weekzone3', 'weekzone4']) {
    if (o[key] !== undefined && o[key] !== null) out[key] = r.int(`${field}.${key}`, { min: 0, max: 8 }, o[key]);
  }
  if (o.group !== undefined && o.group !== null) out.group = r.int(`${field}.group`, { min: 0, max: 9 }, o.group);
  for (const key of ['starttime', 'endtime']) {
    if (o[key] === undefined || o[key] === null) continue;
    const text = r.str(`${field}.${key}`, {}, o[key]);
    // Dates are passed on as written: the reference does not say how the terminal formats them.
    if (normaliseTerminalDate(text)) out[key] = text.trim();
    else out[key] = normaliseWallClockText(text) ?? r.fail(`${field}.${key}`, 'must be a date or time');
  }
  return out;
}

const SCHEDULE_RE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d\*\d{1,2}$/;

function setquestionnaire(r: PayloadReader): Json {
  const frame: Json = {};
  for (const key of ['title', 'voice', 'errmsg']) {
    const v = r.optStr(key, { allowEmpty: true, maxBytes: 200 });
    if (v !== undefined) frame[key] = v;
  }
  for (const key of ['radio', 'usequestion', 'useschedule', 'card']) {
    if (r.has(key)) frame[key] = r.flag(key) === 1;
  }
  const optionflag = r.optInt('optionflag', { min: 0 });
  if (optionflag !== undefined) frame.optionflag = optionflag;
  if (r.has('items')) {
    const max = frame.radio === false ? 8 : 16;
    frame.items = r.list('items', { max }).map((it, i) => r.str(`items[${i}]`, { maxBytes: 200 }, it));
  }
  if (r.has('schedules')) {
    frame.schedules = r.list('schedules', { max: 8 }).map((s, i) => {
      const text = r.str(`schedules[${i}]`, {}, s);
      if (!SCHEDULE_RE.test(text)) r.fail(`schedules[${i}]`, 'must look like HH:MM-HH:MM*N');
      return text;
    });
  }
  if (Object.keys(frame).length === 0) r.fail('payload', 'needs at least one questionnaire field');
  return frame;
}

const MONTH_DAY_RE = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function setholiday(r: PayloadReader): Json {
  const holidays = r.list('holidays', { max: HOLIDAYS_MAX }).map((h, i) => {
    const o = r.object(`holidays[${i}]`, h);
    const out: Json = {};
    if (o.name !== undefined) out.name = r.str(`holidays[${i}].name`, { allowEmpty: true, maxBytes: 64 }, o.name);
    for (const key of ['startday', 'endday']) {
      const text = r.str(`holidays[${i}].${key}`, {}, o[key]);
      if (!MONTH_DAY_RE.test(text)) r.fail(`holidays[${i}].${key}`, 'must be MM-DD');
      out[key] = text;
    }
    for (const key of ['shift', 'dayzone']) {
      if (o[key] !== undefined && o[key] !== null) out[key] = r.int(`holidays[${i}].${key}`, { min: 0 }, o[key]);
    }
    return out;
  });
  return { holidays };
}

function getalllog(r: PayloadReader): Json {
  const frame = paged(r);
  for (const key of ['from', 'to']) {
    if (!r.has(key)) continue;
    const date = normaliseTerminalDate(r.raw(key));
    if (!date) r.fail(key, `must be a date YYYY-M-D (got ${describe(r.raw(key))})`);
    frame[key] = date;
  }
  if (typeof frame.from === 'string' && typeof frame.to === 'string') {
    const key = (d: string): number => d.split('-').reduce((acc, part) => acc * 100 + Number(part), 0);
    if (key(frame.from) > key(frame.to)) r.fail('from', 'must not be after to');
  }
  return frame;
}

const BUILDERS: Record<ServerCommand, (r: PayloadReader) => Json> = {
  getuserlist: paged,
  getuserinfo: (r) => ({ enrollid: r.enrollid(), backupnum: credentialSlot(r) }),
  setuserinfo,
  deleteuser: (r) => {
    const enrollid = r.enrollid();
    const backupnum = r.int('backupnum', { min: 0 });
    if (!isDeleteSlot(backupnum)) r.fail('backupnum', `must be 0-13 or 50 (got ${backupnum})`);
    return { enrollid, backupnum };
  },
  getusername: (r) => ({ enrollid: r.enrollid() }),
  setusername,
  enableuser: (r) => ({ enrollid: r.enrollid(), enflag: r.flag('enflag', r.raw('enflag') ?? r.raw('enable')) }),
  cleanuser: () => ({}),
  getnewlog: paged,
  getalllog,
  cleanlog: () => ({}),
  initsys: () => ({}),
  reboot: () => ({}),
  cleanadmin: () => ({}),
  settime,
  setdevinfo,
  getdevinfo: () => ({}),
  opendoor: (r) => {
    const doornum = r.optInt('doornum', { min: 1, max: 4 });
    return doornum === undefined ? {} : { doornum };
  },
  setdevlock,
  getdevlock: () => ({}),
  getuserlock: (r) => ({ enrollid: r.enrollid() }),
  setuserlock: (r) => {
    const record = r
      .list('record', { min: 1, max: SETUSERLOCK_MAX_RECORDS })
      .map((row, i) => userLockRow(r, `record[${i}]`, row));
    return { count: record.length, record };
  },
  deleteuserlock: (r) => ({ enrollid: r.enrollid() }),
  cleanuserlock: () => ({}),
  gettime: () => ({}),
  getquestionnaire: paged,
  setquestionnaire,
  getholiday: paged,
  setholiday,
  setuserprofile: (r) => ({
    enrollid: r.enrollid('enrollid', true),
    profile: r.str('profile', { allowEmpty: true, maxBytes: PROFILE_MAX_BYTES }),
  }),
  getuserprofile: (r) => ({ enrollid: r.enrollid('enrollid', true) }),
  adduser: (r) => ({
    enrollid: r.enrollid(),
    backupnum: credentialSlot(r),
    admin: r.optInt('admin', { min: 0, max: 2 }) ?? 0,
    name: r.optStr('name', { allowEmpty: true, maxBytes: 64 }) ?? '',
    flag: r.optInt('flag', { min: 0 }) ?? ADDUSER_FLAG_AUTO,
  }),
  getdevcap: () => ({}),
  lockctrl: (r) => ({ fuc: r.int('fuc', { min: 1, max: 6 }, r.raw('fuc') ?? r.raw('ctrl')) }),
};

/**
 * Validates `payload` for `cmd` and returns the frame to send, with every value in its strict wire
 * form (enroll ids and card/password records as numbers, times `YYYY-MM-DD HH:MM:SS`, getalllog
 * dates `YYYY-M-D`). Keys the command does not know are dropped. Throws ProtocolError.
 */
export function buildCommand(cmd: string, payload: Json = {}): CommandFrame {
  if (!isServerCommand(cmd)) throw new ProtocolError(`unknown command "${String(cmd)}"`, 'cmd');
  if (!isPlainObject(payload)) throw new ProtocolError(`${cmd}: payload must be an object`, 'payload');
  return { cmd, ...BUILDERS[cmd](new PayloadReader(cmd, payload)) };
}
