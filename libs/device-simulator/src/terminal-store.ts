import {
  DOOR_LOCK_INTS,
  type DevInfo,
  type Json,
  LOG_PAGE_SIZE,
  MAX_ENROLL_ID,
  USERLIST_PAGE_SIZE,
  formatTerminalTime,
  isCredentialSlot,
  isPlainObject,
  normaliseTerminalDate,
  wallClockAt,
} from '@app/device-protocol';
import { type Rng, type SimCredential, type SimUser, createRng, hashString, makeCredentialRecord } from './sim-data';

/** A log kept on the terminal; `delivered` once acked after sendlog or handed out by getnewlog. */
export interface SimLog {
  enrollid: number;
  time: string;
  mode: number;
  inout: number;
  event: number;
  verifymode?: number;
  temp?: number;
  image?: string;
  name?: string;
  delivered?: boolean;
}

/** What a caller gives for a new log; anything missing is filled in (time = the terminal clock). */
export type SimLogInput = Partial<SimLog>;

export interface HandleResult {
  /** null: the terminal stays silent (unknown command, reboot) */
  reply: Json | null;
  reboot?: boolean;
  door?: number;
}

const STRICT_TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * The terminal's clock: wall-clock time with no zone, like the firmware's. It starts at the host
 * time in `timeZone` and jumps to whatever `cloudtime` the server sends.
 */
export class TerminalClock {
  private offsetMs = 0;

  /** `aheadMs`: a clock with a dead battery, this far ahead, that keeps its time whatever the server sends. */
  constructor(
    timeZone = 'UTC',
    private readonly aheadMs?: number,
  ) {
    const now = Date.now();
    const wall = wallClockAt(now, timeZone);
    this.offsetMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - now;
    if (aheadMs !== undefined) this.offsetMs += aheadMs;
  }

  /** Adopts a `YYYY-MM-DD HH:MM:SS` time; anything else is refused (returns false), as strict firmware would. */
  adopt(cloudtime: unknown): boolean {
    if (typeof cloudtime !== 'string') return false;
    const m = STRICT_TIME_RE.exec(cloudtime);
    if (!m) return false;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    const check = new Date(wall);
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return false;
    if (this.aheadMs === undefined) this.offsetMs = wall - Date.now();
    return true;
  }

  now(): string {
    return formatTerminalTime(new Date(Date.now() + this.offsetMs), 'UTC');
  }
}

interface Cursor<T> {
  rows: T[];
  pos: number;
}

const DEFAULT_SETTINGS = {
  deviceid: 1,
  language: 0,
  volume: 6,
  screensaver: 0,
  verifymode: 0,
  sleep: 0,
  userfpnum: 3,
  loghint: 0,
  reverifytime: 0,
};

const SETTINGS_RANGES: Record<keyof typeof DEFAULT_SETTINGS, [number, number]> = {
  deviceid: [0, 2 ** 31],
  language: [0, 255],
  volume: [0, 10],
  screensaver: [0, 255],
  verifymode: [0, 255],
  sleep: [0, 1],
  userfpnum: [1, 10],
  loghint: [0, 2 ** 31],
  reverifytime: [0, 255],
};

/** Behaviour of real units in the field, each one off unless asked for. */
export interface TerminalQuirks {
  /** Generated users get ids from this one on (a Topdata reader: 12-digit ids, e.g. 123456789012). */
  firstEnrollId?: number;
  /** Every sendlog frame and log page carries one more record dated "0000-00-00 00:00:00" (dead clock battery). */
  badRecordInFrames?: boolean;
  /** Log pages of this many records whose `count` is the page's size, not the total (then an empty page). */
  countIsPageSize?: number;
  /** getnewlog is never answered. */
  ignoresGetnewlog?: boolean;
  /** Each punch carries the user's name, as some firmware sends it. */
  sendsName?: boolean;
  /** The clock runs this far ahead and ignores cloudtime (punches dated years ahead). */
  clockAheadMs?: number;
}

/** The record a terminal with a dead clock battery writes. */
export const DEAD_BATTERY_TIME = '0000-00-00 00:00:00';

export interface TerminalStoreOptions {
  sn: string;
  quirks?: TerminalQuirks;
  users?: SimUser[];
  logs?: SimLogInput[];
  timeZone?: string;
  modelname?: string;
  firmware?: string;
  capacity?: number;
  seed?: number | string;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isUserId = (v: unknown): v is number => isInt(v) && v >= 1 && v <= MAX_ENROLL_ID;
const dateKey = (text: string): number | undefined => {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})/.exec(text);
  return m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : undefined;
};

/**
 * What a terminal keeps in memory and how it answers each server command. It is strict about
 * what the server sends (enroll ids and card/password records must be JSON numbers, times
 * `YYYY-MM-DD HH:MM:SS`) so a server that serialises loosely fails in tests, not in the field.
 */
export class TerminalStore {
  readonly sn: string;
  readonly users = new Map<number, SimUser>();
  readonly logs: SimLog[] = [];
  readonly clock: TerminalClock;
  readonly quirks: TerminalQuirks;
  readonly settings = { ...DEFAULT_SETTINGS };
  devlock: Json = {
    opendelay: 5,
    doorsensor: 0,
    alarmdelay: 0,
    threat: 0,
    InputAlarm: 0,
    antpass: 0,
    interlock: 0,
    mutiopen: 0,
    tryalarm: 0,
    tamper: 0,
    wgformat: 0,
    wgoutput: 0,
    cardoutput: 0,
  };
  readonly userLocks = new Map<number, Json>();
  readonly profiles = new Map<number, string>();
  holidays: Json[] = [];
  questionnaire: Json = {
    title: '',
    voice: '',
    errmsg: '',
    radio: true,
    optionflag: 0,
    usequestion: false,
    useschedule: false,
    card: false,
    items: [],
    schedules: [],
  };
  readonly capacity: number;
  readonly modelname: string;
  readonly firmware: string;
  private readonly rng: Rng;
  private userCursor?: Cursor<Json>;
  private newLogCursor?: Cursor<SimLog>;
  private allLogCursor?: Cursor<SimLog>;

  constructor(opts: TerminalStoreOptions) {
    this.sn = opts.sn;
    this.quirks = opts.quirks ?? {};
    this.clock = new TerminalClock(opts.timeZone, this.quirks.clockAheadMs);
    this.rng = createRng(opts.seed ?? `${opts.sn}:enrol`);
    this.capacity = opts.capacity ?? 3000;
    this.modelname = opts.modelname ?? 'AiFace';
    this.firmware = opts.firmware ?? 'ai806_f06v_v5.17';
    for (const u of opts.users ?? []) this.putUser(u);
    for (const l of opts.logs ?? []) this.addLog(l);
  }

  putUser(user: SimUser): SimUser {
    const copy: SimUser = { ...user, credentials: [...user.credentials].sort((a, b) => a.backupnum - b.backupnum) };
    this.users.set(copy.enrollid, copy);
    return copy;
  }

  /** Stores a punch as a new (undelivered) log, filling what is missing like a terminal would. */
  addLog(input: SimLogInput = {}): SimLog {
    const enrollid = input.enrollid ?? this.randomUserId();
    const user = this.users.get(enrollid);
    const log: SimLog = {
      enrollid,
      time: input.time ?? this.clock.now(),
      mode: input.mode ?? (enrollid === 0 ? 0 : this.modeFor(user)),
      inout: input.inout ?? (enrollid === 0 ? 1 : 0),
      event: input.event ?? 0,
      delivered: input.delivered ?? false,
    };
    for (const key of ['verifymode', 'temp', 'image', 'name'] as const) {
      if (input[key] !== undefined) (log as unknown as Json)[key] = input[key];
    }
    if (this.quirks.sendsName && log.name === undefined && user?.name) log.name = user.name;
    this.logs.push(log);
    return log;
  }

  randomUserId(): number {
    const ids = [...this.users.keys()];
    return ids.length === 0 ? 1 : ids[Math.floor(this.rng() * ids.length)];
  }

  private modeFor(user: SimUser | undefined): number {
    const slots = user?.credentials.map((c) => c.backupnum) ?? [0];
    const pick = slots[Math.floor(this.rng() * slots.length)] ?? 0;
    if (pick === 10) return 2;
    if (pick === 11) return 3;
    if (pick === 50 || (pick >= 20 && pick <= 27)) return 8;
    return 1;
  }

  counts(): Record<string, number> {
    let usedfp = 0;
    let usedcard = 0;
    let usedpwd = 0;
    let usedface = 0;
    let usedpalm = 0;
    for (const u of this.users.values()) {
      for (const c of u.credentials) {
        if (c.backupnum <= 9) usedfp++;
        else if (c.backupnum === 10) usedpwd++;
        else if (c.backupnum === 11) usedcard++;
        else if (c.backupnum === 50 || (c.backupnum >= 20 && c.backupnum <= 27)) usedface++;
        else if (c.backupnum >= 30 && c.backupnum <= 41) usedpalm++;
      }
    }
    return {
      useduser: this.users.size,
      usedfp,
      usedcard,
      usedpwd,
      usedface,
      usedpalm,
      usedlog: this.logs.length,
      usednewlog: this.logs.filter((l) => !l.delivered).length,
    };
  }

  devinfo(overrides: Partial<DevInfo> = {}): DevInfo {
    const h = hashString(this.sn);
    const mac = [0x00, 0x01, 0xa9, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff]
      .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
      .join('-');
    const c = this.counts();
    return {
      modelname: this.modelname,
      usersize: this.capacity,
      fpsize: this.capacity,
      cardsize: this.capacity,
      pwdsize: this.capacity,
      logsize: 100_000,
      facesize: this.capacity,
      useduser: c.useduser,
      usedfp: c.usedfp,
      usedcard: c.usedcard,
      usedpwd: c.usedpwd,
      usedlog: c.usedlog,
      usednewlog: c.usednewlog,
      usedface: c.usedface,
      fpalgo: 'thbio3.0',
      firmware: this.firmware,
      time: this.clock.now(),
      mac,
      ...overrides,
    };
  }

  cpusn(): string {
    return hashString(`${this.sn}:cpu`).toString(16).toUpperCase().padStart(8, '0') + '0A1B2C3D';
  }

  /** Answers one server command; `reply: null` means the terminal stays silent. */
  handle(cmd: string, msg: Json): HandleResult {
    const handler = this.handlers[cmd];
    if (!handler) return { reply: null };
    const result = handler(msg);
    if (result.reply) result.reply = { ret: cmd, sn: this.sn, ...result.reply };
    return result;
  }

  private ok(extra: Json = {}): HandleResult {
    return { reply: { result: true, ...extra } };
  }

  private fail(reason = 1): HandleResult {
    return { reply: { result: false, reason } };
  }

  private credentialRecordValid(backupnum: number, record: unknown): boolean {
    if (backupnum === 10) return isInt(record) && record >= 0 && record <= 99_999_999;
    if (backupnum === 11) return isInt(record) && record >= 0;
    return typeof record === 'string' && record.length > 0;
  }

  private userRows(): Json[] {
    const rows: Json[] = [];
    for (const u of [...this.users.values()].sort((a, b) => a.enrollid - b.enrollid)) {
      for (const c of u.credentials) rows.push({ enrollid: u.enrollid, admin: u.admin, backupnum: c.backupnum });
    }
    return rows;
  }

  private page<T>(cursor: Cursor<T>, size: number): { rows: T[]; from: number; to: number } {
    const rows = cursor.rows.slice(cursor.pos, cursor.pos + size);
    const from = rows.length === 0 ? 0 : cursor.pos;
    const to = rows.length === 0 ? 0 : cursor.pos + rows.length - 1;
    cursor.pos += rows.length;
    return { rows, from, to };
  }

  private logWire(l: SimLog): Json {
    const rec: Json = { enrollid: l.enrollid, time: l.time, mode: l.mode, inout: l.inout, event: l.event };
    if (l.verifymode !== undefined) rec.verifymode = l.verifymode;
    if (l.temp !== undefined) rec.temp = l.temp;
    if (l.name !== undefined) rec.name = l.name;
    return rec;
  }

  private logPacket(cursor: Cursor<SimLog>, markDelivered: boolean): HandleResult {
    const pageSize = this.quirks.countIsPageSize ?? LOG_PAGE_SIZE;
    const { rows, from, to } = this.page(cursor, pageSize);
    if (markDelivered) for (const l of rows) l.delivered = true;
    const record = rows.map((l) => this.logWire(l));
    if (this.quirks.badRecordInFrames && rows.length > 0) record.push(this.deadBatteryRecord(rows[0].enrollid));
    const count = this.quirks.countIsPageSize !== undefined ? rows.length : cursor.rows.length;
    return this.ok({ count, from, to, record });
  }

  /** The record a dead clock battery produces (badRecordInFrames). */
  deadBatteryRecord(enrollid: number): Json {
    return { enrollid, time: DEAD_BATTERY_TIME, mode: 1, inout: 0, event: 0 };
  }

  private stn(msg: Json): boolean {
    return msg.stn !== false && msg.stn !== 0;
  }

  private readonly handlers: Record<string, (msg: Json) => HandleResult> = {
    getuserlist: (msg) => {
      if (this.stn(msg) || !this.userCursor) this.userCursor = { rows: this.userRows(), pos: 0 };
      const { rows, from, to } = this.page(this.userCursor, USERLIST_PAGE_SIZE);
      return this.ok({ count: rows.length, from, to, record: rows });
    },
    getuserinfo: (msg) => {
      if (!isUserId(msg.enrollid) || !isInt(msg.backupnum)) return this.fail();
      const user = this.users.get(msg.enrollid);
      const cred = user?.credentials.find((c) => c.backupnum === msg.backupnum);
      if (!user || !cred) return this.fail();
      return this.ok({
        enrollid: user.enrollid,
        name: user.name,
        backupnum: cred.backupnum,
        admin: user.admin,
        record: cred.record,
      });
    },
    setuserinfo: (msg) => {
      const { enrollid, backupnum, record } = msg;
      if (!isUserId(enrollid) || !isInt(backupnum) || !isCredentialSlot(backupnum)) return this.fail();
      if (!this.credentialRecordValid(backupnum, record)) return this.fail();
      if (msg.name !== undefined && typeof msg.name !== 'string') return this.fail();
      if (msg.admin !== undefined && !(isInt(msg.admin) && msg.admin >= 0 && msg.admin <= 2)) return this.fail();
      const user = this.users.get(enrollid) ?? this.putUser({ enrollid, name: '', admin: 0, credentials: [] });
      if (typeof msg.name === 'string') user.name = msg.name;
      if (isInt(msg.admin)) user.admin = msg.admin;
      if (msg.enable === 0 || msg.enable === 1) user.enabled = msg.enable === 1;
      this.setCredential(user, { backupnum, record: record as string | number });
      return this.ok({ enrollid });
    },
    deleteuser: (msg) => {
      const { enrollid, backupnum } = msg;
      if (!isUserId(enrollid) || !isInt(backupnum)) return this.fail();
      const user = this.users.get(enrollid);
      if (!user) return this.fail(1);
      if (backupnum === 13) this.users.delete(enrollid);
      else if (backupnum === 12) user.credentials = user.credentials.filter((c) => c.backupnum > 9);
      else if ((backupnum >= 0 && backupnum <= 11) || backupnum === 50) {
        user.credentials = user.credentials.filter((c) => c.backupnum !== backupnum);
      } else return this.fail();
      return this.ok();
    },
    getusername: (msg) => {
      const user = isUserId(msg.enrollid) ? this.users.get(msg.enrollid) : undefined;
      return user ? this.ok({ enrollid: user.enrollid, record: user.name }) : this.fail();
    },
    setusername: (msg) => {
      const rows = msg.record;
      if (!Array.isArray(rows) || rows.length === 0 || rows.length >= 50) return this.fail();
      if (!rows.every((r) => isPlainObject(r) && isUserId(r.enrollid) && typeof r.name === 'string'))
        return this.fail();
      for (const r of rows as { enrollid: number; name: string }[]) {
        const user =
          this.users.get(r.enrollid) ?? this.putUser({ enrollid: r.enrollid, name: '', admin: 0, credentials: [] });
        user.name = r.name;
      }
      return this.ok();
    },
    enableuser: (msg) => {
      // The vendor's own example misspells enrollid as "enrolled"; firmware evidently reads both.
      const id = msg.enrollid ?? msg.enrolled;
      const user = isUserId(id) ? this.users.get(id) : undefined;
      if (!user || (msg.enflag !== 0 && msg.enflag !== 1)) return this.fail();
      user.enabled = msg.enflag === 1;
      return this.ok();
    },
    cleanuser: () => {
      this.users.clear();
      return this.ok();
    },
    getnewlog: (msg) => {
      if (this.quirks.ignoresGetnewlog) return { reply: null };
      if (this.stn(msg) || !this.newLogCursor)
        this.newLogCursor = { rows: this.logs.filter((l) => !l.delivered), pos: 0 };
      return this.logPacket(this.newLogCursor, true);
    },
    getalllog: (msg) => {
      if (this.stn(msg) || !this.allLogCursor) {
        let rows = [...this.logs];
        for (const [key, keep] of [
          ['from', (d: number, k: number) => d >= k],
          ['to', (d: number, k: number) => d <= k],
        ] as const) {
          if (msg[key] === undefined) continue;
          const date = normaliseTerminalDate(msg[key]);
          if (!date) return this.fail();
          const limit = dateKey(date)!;
          rows = rows.filter((l) => {
            const d = dateKey(l.time);
            return d !== undefined && keep(d, limit);
          });
        }
        this.allLogCursor = { rows, pos: 0 };
      }
      return this.logPacket(this.allLogCursor, false);
    },
    cleanlog: () => {
      this.logs.length = 0;
      return this.ok();
    },
    initsys: () => {
      this.users.clear();
      this.logs.length = 0;
      return this.ok();
    },
    reboot: () => ({ reply: null, reboot: true }),
    cleanadmin: () => {
      for (const u of this.users.values()) u.admin = 0;
      return this.ok();
    },
    settime: (msg) => (this.clock.adopt(msg.cloudtime) ? this.ok() : this.fail()),
    setdevinfo: (msg) => {
      const next = { ...this.settings };
      for (const key of Object.keys(SETTINGS_RANGES) as (keyof typeof DEFAULT_SETTINGS)[]) {
        let v = msg[key];
        if (v === undefined) continue;
        if (key === 'sleep' && typeof v === 'boolean') v = v ? 1 : 0;
        const [min, max] = SETTINGS_RANGES[key];
        if (!isInt(v) || v < min || v > max) return this.fail();
        next[key] = v;
      }
      Object.assign(this.settings, next);
      return this.ok();
    },
    getdevinfo: () => this.ok({ ...this.settings }),
    opendoor: (msg) => {
      if (msg.doornum !== undefined && !(isInt(msg.doornum) && msg.doornum >= 1 && msg.doornum <= 4))
        return this.fail();
      return { ...this.ok(), door: isInt(msg.doornum) ? msg.doornum : 0 };
    },
    setdevlock: (msg) => {
      const next: Json = { ...this.devlock };
      for (const key of DOOR_LOCK_INTS) {
        if (msg[key] === undefined) continue;
        if (!isInt(msg[key])) return this.fail();
        next[key] = msg[key];
      }
      for (const key of ['dayzone', 'weekzone', 'lockgroup']) {
        if (msg[key] === undefined) continue;
        if (!Array.isArray(msg[key]) || msg[key].length > 8 * 4) return this.fail();
        next[key] = msg[key];
      }
      this.devlock = next;
      return this.ok();
    },
    getdevlock: () => this.ok({ ...this.devlock }),
    getuserlock: (msg) => {
      if (!isUserId(msg.enrollid) || !this.users.has(msg.enrollid)) return this.fail();
      const lock = this.userLocks.get(msg.enrollid) ?? {
        weekzone: 1,
        weekzone2: 0,
        weekzone3: 0,
        weekzone4: 0,
        group: 0,
        starttime: '2000-01-01 00:00:00',
        endtime: '2099-12-31 23:59:59',
      };
      return this.ok({ enrollid: msg.enrollid, ...lock });
    },
    setuserlock: (msg) => {
      const rows = msg.record;
      if (!Array.isArray(rows) || rows.length === 0 || rows.length > 40) return this.fail();
      if (!rows.every((r) => isPlainObject(r) && isUserId(r.enrollid))) return this.fail();
      for (const r of rows as Json[]) {
        const { enrollid, ...lock } = r;
        this.userLocks.set(enrollid as number, { ...(this.userLocks.get(enrollid as number) ?? {}), ...lock });
      }
      return this.ok();
    },
    deleteuserlock: (msg) => {
      if (!isUserId(msg.enrollid)) return this.fail();
      this.userLocks.delete(msg.enrollid);
      return this.ok();
    },
    cleanuserlock: () => {
      this.userLocks.clear();
      return this.ok();
    },
    // gettime is the one reply without a result key.
    gettime: () => ({ reply: { time: this.clock.now() } }),
    getquestionnaire: () => this.ok({ ...this.questionnaire }),
    setquestionnaire: (msg) => {
      const { cmd: _cmd, sn: _sn, ...rest } = msg;
      if (rest.items !== undefined && (!Array.isArray(rest.items) || rest.items.length > 16)) return this.fail();
      if (rest.schedules !== undefined && (!Array.isArray(rest.schedules) || rest.schedules.length > 8))
        return this.fail();
      this.questionnaire = { ...this.questionnaire, ...rest };
      return this.ok();
    },
    getholiday: () => this.ok({ holidays: this.holidays.map((h) => ({ ...h })) }),
    setholiday: (msg) => {
      if (!Array.isArray(msg.holidays) || msg.holidays.length > 30 || !msg.holidays.every(isPlainObject))
        return this.fail();
      this.holidays = msg.holidays.map((h) => ({ ...h }));
      return this.ok();
    },
    setuserprofile: (msg) => {
      const { enrollid, profile } = msg;
      if (!isInt(enrollid) || enrollid < 0 || enrollid > MAX_ENROLL_ID || typeof profile !== 'string')
        return this.fail();
      if (Buffer.byteLength(profile, 'utf8') > 200) return this.fail();
      this.profiles.set(enrollid, profile);
      return this.ok({ enrollid });
    },
    getuserprofile: (msg) => {
      const { enrollid } = msg;
      if (!isInt(enrollid) || enrollid < 0 || (enrollid > 0 && !this.users.has(enrollid))) return this.fail();
      return this.ok({ enrollid, record: this.profiles.get(enrollid) ?? '' });
    },
    adduser: (msg) => {
      const { enrollid, backupnum } = msg;
      if (!isUserId(enrollid) || !isInt(backupnum) || !isCredentialSlot(backupnum)) return this.fail(1);
      if (this.users.has(enrollid)) return this.fail(2);
      const admin = isInt(msg.admin) && msg.admin >= 0 && msg.admin <= 2 ? msg.admin : 0;
      this.putUser({
        enrollid,
        name: typeof msg.name === 'string' ? msg.name : '',
        admin,
        credentials: [{ backupnum, record: makeCredentialRecord(this.rng, backupnum) }],
      });
      return this.ok({ enrollid });
    },
    getdevcap: () => {
      const c = this.counts();
      return this.ok({
        usersize: this.capacity,
        facesize: this.capacity,
        fpsize: this.capacity,
        palmsize: 0,
        cardsize: this.capacity,
        pwdsize: this.capacity,
        logsize: 100_000,
        ...c,
        usedrtlog: 0,
      });
    },
    lockctrl: (msg) => {
      if (!isInt(msg.fuc) || msg.fuc < 1 || msg.fuc > 6) return this.fail();
      return msg.fuc === 5 ? { ...this.ok(), reboot: true } : this.ok();
    },
  };

  private setCredential(user: SimUser, cred: SimCredential): void {
    user.credentials = [...user.credentials.filter((c) => c.backupnum !== cred.backupnum), cred].sort(
      (a, b) => a.backupnum - b.backupnum,
    );
  }

  /** Paging cursors do not survive a restart. */
  resetSession(): void {
    this.userCursor = undefined;
    this.newLogCursor = undefined;
    this.allLogCursor = undefined;
  }
}
