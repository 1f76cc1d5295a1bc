import type { Json } from './coerce';

export type { Json } from './coerce';

/** Device information sent in `reg` (§3.1). Every field is optional; unknown keys are kept as sent. */
export interface DevInfo {
  modelname?: string;
  usersize?: number;
  fpsize?: number;
  cardsize?: number;
  pwdsize?: number;
  logsize?: number;
  facesize?: number;
  palmsize?: number;
  useduser?: number;
  usedfp?: number;
  usedcard?: number;
  usedpwd?: number;
  usedlog?: number;
  usednewlog?: number;
  usedface?: number;
  usedpalm?: number;
  usedrtlog?: number;
  fpalgo?: string;
  firmware?: string;
  /** the terminal's clock, raw */
  time?: string;
  /** `00-01-A9-...` with dashes, raw */
  mac?: string;
  [key: string]: unknown;
}

export const DEVINFO_NUMBER_FIELDS = [
  'usersize',
  'fpsize',
  'cardsize',
  'pwdsize',
  'logsize',
  'facesize',
  'palmsize',
  'useduser',
  'usedfp',
  'usedcard',
  'usedpwd',
  'usedlog',
  'usednewlog',
  'usedface',
  'usedpalm',
  'usedrtlog',
] as const;

export const DEVINFO_STRING_FIELDS = ['modelname', 'fpalgo', 'firmware', 'time', 'mac'] as const;

// ---------------------------------------------------------------- terminal -> server requests

export interface RegRequest {
  sn: string;
  cpusn?: string;
  devinfo: DevInfo;
  raw: Json;
}

/**
 * One punch or door event. `mode`, `verifymode`, `inout` and `event` are the raw integers: the
 * sources disagree on what they mean, so they are never mapped here.
 */
export interface LogRecord {
  /** 0 = door / system event */
  enrollid: number;
  /** exactly as the terminal sent it (wall clock, no zone) */
  time: string;
  mode?: number;
  inout?: number;
  event?: number;
  verifymode?: number;
  temp?: number;
  /** base64 JPEG of the punch */
  image?: string;
  name?: string;
  /** the record as received, without `image` (which can be megabytes) */
  raw: Json;
}

/** A record of a log frame that cannot be stored, as it came, with why. */
export interface RejectedLogRecord {
  /** position in the frame's record list */
  index: number;
  raw: unknown;
  reason: string;
}

export interface SplitLogRecords {
  records: LogRecord[];
  rejected: RejectedLogRecord[];
}

export interface SendlogRequest {
  sn: string;
  count?: number;
  logindex?: number;
  records: LogRecord[];
  /** records of the frame that cannot be stored (the others are) */
  rejected: RejectedLogRecord[];
}

export interface SenduserRequest {
  sn: string;
  enrollid: number;
  name?: string;
  backupnum?: number;
  admin?: number;
  record?: string | number;
  raw: Json;
}

export interface QrcodeRequest {
  sn: string;
  /** the scanned QR text */
  record: string;
  raw: Json;
}

// ---------------------------------------------------------------- server -> terminal commands

export const SERVER_COMMANDS = [
  'getuserlist',
  'getuserinfo',
  'setuserinfo',
  'deleteuser',
  'getusername',
  'setusername',
  'enableuser',
  'cleanuser',
  'getnewlog',
  'getalllog',
  'cleanlog',
  'initsys',
  'reboot',
  'cleanadmin',
  'settime',
  'setdevinfo',
  'getdevinfo',
  'opendoor',
  'setdevlock',
  'getdevlock',
  'getuserlock',
  'setuserlock',
  'deleteuserlock',
  'cleanuserlock',
  'gettime',
  'getquestionnaire',
  'setquestionnaire',
  'getholiday',
  'setholiday',
  'setuserprofile',
  'getuserprofile',
  'adduser',
  'getdevcap',
  'lockctrl',
] as const;

export type ServerCommand = (typeof SERVER_COMMANDS)[number];

/** Requests a terminal sends on its own. */
export const TERMINAL_REQUESTS = ['reg', 'sendlog', 'senduser', 'sendqrcode'] as const;
export type TerminalRequest = (typeof TERMINAL_REQUESTS)[number];

export interface DeviceSettings {
  deviceid?: number;
  language?: number;
  volume?: number;
  screensaver?: number;
  verifymode?: number;
  sleep?: number;
  userfpnum?: number;
  loghint?: number;
  reverifytime?: number;
}

export interface DayZone {
  day: { section: string }[];
}
export interface WeekZone {
  week: { day: number }[];
}

export interface DoorLockSettings {
  opendelay?: number;
  doorsensor?: number;
  alarmdelay?: number;
  threat?: number;
  InputAlarm?: number;
  antpass?: number;
  interlock?: number;
  mutiopen?: number;
  tryalarm?: number;
  tamper?: number;
  wgformat?: number;
  wgoutput?: number;
  cardoutput?: number;
  access_times?: number;
  punchtimes?: number;
  dayzone?: DayZone[];
  weekzone?: WeekZone[];
  lockgroup?: { group: string | number }[];
  [key: string]: unknown;
}

export interface UserLock {
  enrollid: number;
  weekzone?: number;
  weekzone2?: number;
  weekzone3?: number;
  weekzone4?: number;
  group?: number;
  starttime?: string;
  endtime?: string;
}

export interface Holiday {
  name?: string;
  startday: string;
  endday: string;
  shift?: number;
  dayzone?: number;
}

export interface Questionnaire {
  title?: string;
  voice?: string;
  errmsg?: string;
  radio?: boolean;
  optionflag?: number;
  usequestion?: boolean;
  useschedule?: boolean;
  card?: boolean;
  items?: string[];
  schedules?: string[];
  [key: string]: unknown;
}

/** Payload shapes accepted by buildCommand (validated at run time, so plain JSON works too). */
export interface CommandPayloads {
  getuserlist: { stn?: boolean };
  getuserinfo: { enrollid: number; backupnum: number };
  setuserinfo: {
    enrollid: number;
    backupnum: number;
    record: string | number;
    name?: string;
    admin?: number;
    [extended: string]: unknown;
  };
  deleteuser: { enrollid: number; backupnum: number };
  getusername: { enrollid: number };
  setusername: { record: { enrollid: number; name: string }[] };
  enableuser: { enrollid: number; enflag: 0 | 1 | boolean };
  cleanuser: Record<string, never>;
  getnewlog: { stn?: boolean };
  getalllog: { stn?: boolean; from?: string; to?: string };
  cleanlog: Record<string, never>;
  initsys: Record<string, never>;
  reboot: Record<string, never>;
  cleanadmin: Record<string, never>;
  /** `cloudtime` as wall-clock text, or a Date / nothing (= now) together with `timeZone` */
  settime: { cloudtime?: string | Date; timeZone?: string };
  setdevinfo: DeviceSettings;
  getdevinfo: Record<string, never>;
  opendoor: { doornum?: number };
  setdevlock: DoorLockSettings;
  getdevlock: Record<string, never>;
  getuserlock: { enrollid: number };
  setuserlock: { record: UserLock[] };
  deleteuserlock: { enrollid: number };
  cleanuserlock: Record<string, never>;
  gettime: Record<string, never>;
  getquestionnaire: { stn?: boolean };
  setquestionnaire: Questionnaire;
  getholiday: { stn?: boolean };
  setholiday: { holidays: Holiday[] };
  setuserprofile: { enrollid: number; profile: string };
  getuserprofile: { enrollid: number };
  adduser: { enrollid: number; backupnum: number; name?: string; admin?: number; flag?: number };
  getdevcap: Record<string, never>;
  lockctrl: { fuc: number };
}

export type CommandFrame = { cmd: ServerCommand } & Json;

// ---------------------------------------------------------------- terminal replies

export interface UserListRow {
  enrollid: number;
  backupnum: number;
  admin?: number;
  raw: Json;
}

/** One getuserlist packet: `count` is the number of rows in this packet. */
export interface GetUserListReply {
  count: number;
  from?: number;
  to?: number;
  records: UserListRow[];
}

/**
 * One getnewlog / getalllog packet: `count` is the total of the whole transfer (some firmware puts
 * the page size there instead). `rejected`: records of the page that cannot be stored.
 */
export interface GetLogReply {
  count?: number;
  from?: number;
  to?: number;
  records: LogRecord[];
  rejected: RejectedLogRecord[];
}

export interface UserInfoReply {
  enrollid?: number;
  backupnum?: number;
  name?: string;
  admin?: number;
  record?: string | number;
}

export interface ReplyData {
  getuserlist: GetUserListReply;
  getuserinfo: UserInfoReply;
  setuserinfo: { enrollid?: number };
  deleteuser: Json;
  getusername: { enrollid?: number; name: string };
  setusername: Json;
  enableuser: Json;
  cleanuser: Json;
  getnewlog: GetLogReply;
  getalllog: GetLogReply;
  cleanlog: Json;
  initsys: Json;
  reboot: Json;
  cleanadmin: Json;
  settime: Json;
  setdevinfo: Json;
  getdevinfo: DeviceSettings;
  opendoor: Json;
  setdevlock: Json;
  getdevlock: DoorLockSettings;
  getuserlock: Partial<UserLock>;
  setuserlock: Json;
  deleteuserlock: Json;
  cleanuserlock: Json;
  gettime: { time?: string };
  getquestionnaire: Questionnaire;
  setquestionnaire: Json;
  getholiday: { holidays: Json[] };
  setholiday: Json;
  setuserprofile: { enrollid?: number };
  getuserprofile: { enrollid?: number; profile: string };
  adduser: { enrollid?: number };
  getdevcap: Record<string, number>;
  lockctrl: Json;
}

export type CommandReply<C extends ServerCommand = ServerCommand> = {
  cmd: C;
  /** the `ret` as received (normally equal to `cmd`) */
  ret: string;
  sn?: string;
  raw: Json;
} & ({ success: true; data: ReplyData[C] } | { success: false; reason?: number | string; data?: undefined });
