import { ProtocolError } from './protocol-error';
import {
  SERVER_COMMANDS,
  buildCommand,
  commandExpectsReply,
  isServerCommand,
  replyHasResult,
  replyMatchesCommand,
} from './server-commands';
import { formatTerminalTime } from './terminal-time';

const error = (fn: () => unknown): ProtocolError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
};

describe('command table', () => {
  it('lists every command of the reference §4 table, adduser included, once', () => {
    expect(new Set(SERVER_COMMANDS).size).toBe(SERVER_COMMANDS.length);
    for (const cmd of [
      'getuserlist',
      'setuserinfo',
      'deleteuser',
      'getnewlog',
      'getalllog',
      'reboot',
      'settime',
      'setdevlock',
      'gettime',
      'adduser',
      'getdevcap',
      'lockctrl',
    ]) {
      expect(SERVER_COMMANDS).toContain(cmd);
    }
    expect(SERVER_COMMANDS).toHaveLength(34);
    expect(SERVER_COMMANDS).not.toContain('adduserinfo');
  });

  it('isServerCommand', () => {
    expect(isServerCommand('getuserinfo')).toBe(true);
    expect(isServerCommand('adduserinfo')).toBe(false);
    expect(isServerCommand('getalluser')).toBe(false);
    expect(isServerCommand(5)).toBe(false);
  });

  it('knows reboot is never answered and gettime has no result key', () => {
    expect(commandExpectsReply('reboot')).toBe(false);
    expect(SERVER_COMMANDS.filter((c) => !commandExpectsReply(c))).toEqual(['reboot']);
    expect(replyHasResult('gettime')).toBe(false);
    expect(SERVER_COMMANDS.filter((c) => !replyHasResult(c))).toEqual(['gettime']);
  });

  it('matches replies by ret, including the vendor getdevlock/setdevlock typo', () => {
    expect(replyMatchesCommand('getuserinfo', 'getuserinfo')).toBe(true);
    expect(replyMatchesCommand('getuserinfo', ' GETUSERINFO ')).toBe(true);
    expect(replyMatchesCommand('getdevlock', 'setdevlock')).toBe(true);
    expect(replyMatchesCommand('setdevlock', 'getdevlock')).toBe(false);
    expect(replyMatchesCommand('getuserinfo', 'getuserlist')).toBe(false);
  });

  it('builds every command that needs no payload', () => {
    for (const cmd of [
      'cleanuser',
      'cleanlog',
      'initsys',
      'reboot',
      'cleanadmin',
      'getdevinfo',
      'getdevlock',
      'cleanuserlock',
      'gettime',
      'getdevcap',
    ]) {
      expect(buildCommand(cmd, { ignored: 1 })).toEqual({ cmd });
    }
  });

  it('rejects an unknown command and a non-object payload', () => {
    expect(error(() => buildCommand('adduserinfo', {})).message).toBe('unknown command "adduserinfo"');
    expect(error(() => buildCommand('getuserinfo', [] as never)).field).toBe('payload');
  });
});

describe('buildCommand: users', () => {
  it('paged commands default stn to true and accept stn:false', () => {
    expect(buildCommand('getuserlist', {})).toEqual({ cmd: 'getuserlist', stn: true });
    expect(buildCommand('getuserlist', { stn: false })).toEqual({ cmd: 'getuserlist', stn: false });
    expect(buildCommand('getnewlog', { stn: 0 })).toEqual({ cmd: 'getnewlog', stn: false });
    expect(buildCommand('getholiday', {})).toEqual({ cmd: 'getholiday', stn: true });
    expect(buildCommand('getquestionnaire', { stn: 'true' })).toEqual({ cmd: 'getquestionnaire', stn: true });
    expect(error(() => buildCommand('getuserlist', { stn: 'maybe' })).field).toBe('stn');
  });

  it('getuserinfo needs enrollid and a credential backupnum, normalised to numbers', () => {
    expect(buildCommand('getuserinfo', { enrollid: '12', backupnum: '50' })).toEqual({
      cmd: 'getuserinfo',
      enrollid: 12,
      backupnum: 50,
    });
    expect(error(() => buildCommand('getuserinfo', { backupnum: 0 })).message).toBe(
      'getuserinfo: enrollid is required',
    );
    expect(error(() => buildCommand('getuserinfo', { enrollid: 1 })).field).toBe('backupnum');
    expect(error(() => buildCommand('getuserinfo', { enrollid: 1, backupnum: 13 })).message).toMatch(
      /not a credential slot/,
    );
  });

  it('setuserinfo sends a fingerprint template as a string', () => {
    expect(
      buildCommand('setuserinfo', { enrollid: 2, backupnum: 3, record: 'AB(10)CD', name: 'Sally', admin: 0 }),
    ).toEqual({
      cmd: 'setuserinfo',
      enrollid: 2,
      backupnum: 3,
      record: 'AB(10)CD',
      name: 'Sally',
      admin: 0,
    });
  });

  it('setuserinfo sends card (11) and password (10) records as JSON numbers', () => {
    expect(buildCommand('setuserinfo', { enrollid: 2, backupnum: 11, record: '0004419327' }).record).toBe(4419327);
    expect(buildCommand('setuserinfo', { enrollid: 2, backupnum: 10, record: '12345678' }).record).toBe(12345678);
    expect(buildCommand('setuserinfo', { enrollid: 2, backupnum: 10, record: 1234 }).record).toBe(1234);
  });

  it('setuserinfo rejects a password longer than 8 digits or with symbols', () => {
    expect(error(() => buildCommand('setuserinfo', { enrollid: 2, backupnum: 10, record: '123456789' })).field).toBe(
      'record',
    );
    expect(error(() => buildCommand('setuserinfo', { enrollid: 2, backupnum: 10, record: 'abc!' })).message).toMatch(
      /at most 8 digits/,
    );
    expect(error(() => buildCommand('setuserinfo', { enrollid: 2, backupnum: 11, record: -5 })).field).toBe('record');
  });

  it('setuserinfo requires enrollid, backupnum and record', () => {
    expect(error(() => buildCommand('setuserinfo', { backupnum: 0, record: 'x' })).field).toBe('enrollid');
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, record: 'x' })).field).toBe('backupnum');
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, backupnum: 0 })).message).toBe(
      'setuserinfo: record is required',
    );
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, backupnum: 0, record: '' })).field).toBe('record');
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, backupnum: 0, record: 5 })).field).toBe('record');
  });

  it('setuserinfo strips a data-URL prefix from a photo and rejects non-base64', () => {
    expect(
      buildCommand('setuserinfo', { enrollid: 1, backupnum: 50, record: 'data:image/jpeg;base64,/9j/4AA=' }).record,
    ).toBe('/9j/4AA=');
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, backupnum: 50, record: 'not base64!' })).field).toBe(
      'record',
    );
  });

  it('setuserinfo only sends name and admin when given (no accidental rename or demotion)', () => {
    expect(buildCommand('setuserinfo', { enrollid: 1, backupnum: 0, record: 'x' })).toEqual({
      cmd: 'setuserinfo',
      enrollid: 1,
      backupnum: 0,
      record: 'x',
    });
    expect(error(() => buildCommand('setuserinfo', { enrollid: 1, backupnum: 0, record: 'x', admin: 3 })).field).toBe(
      'admin',
    );
  });

  it('setuserinfo passes the extended (#37) fields in wire form', () => {
    const frame = buildCommand('setuserinfo', {
      enrollid: 1,
      backupnum: 0,
      record: 'x',
      verifymode: '8',
      enable: 1,
      department: 'R&D',
      card: '77',
      pwd: '1234',
    });
    expect(frame).toMatchObject({ verifymode: 8, enable: 1, department: 'R&D', card: 77, pwd: 1234 });
  });

  it.each([[0], [-1], [1_000_000_000_000], ['abc'], [2.5], [null]])('rejects enrollid %p', (enrollid) => {
    expect(error(() => buildCommand('deleteuser', { enrollid, backupnum: 13 })).field).toBe('enrollid');
  });

  it('deleteuser accepts backupnum 0-13 and 50 only', () => {
    for (const backupnum of [0, 9, 10, 11, 12, 13, 50]) {
      expect(buildCommand('deleteuser', { enrollid: 5, backupnum })).toEqual({
        cmd: 'deleteuser',
        enrollid: 5,
        backupnum,
      });
    }
    for (const backupnum of [14, 20, 49, 51, -1]) {
      expect(error(() => buildCommand('deleteuser', { enrollid: 5, backupnum })).field).toBe('backupnum');
    }
    expect(error(() => buildCommand('deleteuser', { enrollid: 5 })).message).toBe('deleteuser: backupnum is required');
  });

  it('getusername and setusername', () => {
    expect(buildCommand('getusername', { enrollid: '3' })).toEqual({ cmd: 'getusername', enrollid: 3 });
    expect(
      buildCommand('setusername', {
        record: [
          { enrollid: 1, name: 'A' },
          { enrollid: '2', name: 'B' },
        ],
      }),
    ).toEqual({
      cmd: 'setusername',
      count: 2,
      record: [
        { enrollid: 1, name: 'A' },
        { enrollid: 2, name: 'B' },
      ],
    });
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ enrollid: i + 1, name: 'x' }));
    expect(error(() => buildCommand('setusername', { record: tooMany })).message).toMatch(/at most 49/);
    expect(error(() => buildCommand('setusername', { record: [] })).field).toBe('record');
    expect(error(() => buildCommand('setusername', { record: [{ enrollid: 1 }] })).field).toBe('record[0].name');
  });

  it('enableuser sends enflag (and the correct enrollid spelling)', () => {
    expect(buildCommand('enableuser', { enrollid: 4, enflag: true })).toEqual({
      cmd: 'enableuser',
      enrollid: 4,
      enflag: 1,
    });
    expect(buildCommand('enableuser', { enrollid: 4, enable: 0 })).toEqual({
      cmd: 'enableuser',
      enrollid: 4,
      enflag: 0,
    });
    expect(error(() => buildCommand('enableuser', { enrollid: 4 })).field).toBe('enflag');
    expect(error(() => buildCommand('enableuser', { enrollid: 4, enflag: 2 })).field).toBe('enflag');
  });

  it('adduser fills admin 0, empty name and flag 10 and needs enrollid + backupnum', () => {
    expect(buildCommand('adduser', { enrollid: 10012, backupnum: 50, name: 'John Smith1', aliasid: 'JS' })).toEqual({
      cmd: 'adduser',
      enrollid: 10012,
      backupnum: 50,
      admin: 0,
      name: 'John Smith1',
      flag: 10,
    });
    expect(buildCommand('adduser', { enrollid: 7, backupnum: 0, admin: 1 })).toMatchObject({
      backupnum: 0,
      admin: 1,
      name: '',
    });
    expect(error(() => buildCommand('adduser', { backupnum: 0 })).field).toBe('enrollid');
    expect(error(() => buildCommand('adduser', { enrollid: 7 })).field).toBe('backupnum');
  });

  it('profiles: enrollid 0 addresses everyone, profile at most 200 bytes', () => {
    expect(buildCommand('setuserprofile', { enrollid: 0, profile: 'Welcome' })).toEqual({
      cmd: 'setuserprofile',
      enrollid: 0,
      profile: 'Welcome',
    });
    expect(buildCommand('getuserprofile', { enrollid: 3 })).toEqual({ cmd: 'getuserprofile', enrollid: 3 });
    expect(error(() => buildCommand('setuserprofile', { enrollid: 1, profile: 'é'.repeat(101) })).message).toMatch(
      /200 bytes/,
    );
  });
});

describe('buildCommand: logs and time', () => {
  it('getalllog sends from/to as unpadded dates', () => {
    expect(buildCommand('getalllog', { from: '2018-11-01', to: '2018-12-1' })).toEqual({
      cmd: 'getalllog',
      stn: true,
      from: '2018-11-1',
      to: '2018-12-1',
    });
    expect(buildCommand('getalllog', { stn: false })).toEqual({ cmd: 'getalllog', stn: false });
  });

  it('getalllog rejects bad dates and a reversed range', () => {
    expect(error(() => buildCommand('getalllog', { from: '2018-13-01' })).field).toBe('from');
    expect(error(() => buildCommand('getalllog', { to: '01/11/2018' })).field).toBe('to');
    expect(error(() => buildCommand('getalllog', { from: '2018-12-2', to: '2018-12-1' })).message).toMatch(
      /not be after/,
    );
  });

  it('settime sends cloudtime, padded', () => {
    expect(buildCommand('settime', { cloudtime: '2024-5-1 8:00:00' })).toEqual({
      cmd: 'settime',
      cloudtime: '2024-05-01 08:00:00',
    });
    expect(buildCommand('settime', { time: '2024-05-01 08:00:00' })).toEqual({
      cmd: 'settime',
      cloudtime: '2024-05-01 08:00:00',
    });
  });

  it('settime converts a Date or zoned text into the terminal zone', () => {
    const instant = new Date('2024-07-01T10:00:00Z');
    expect(buildCommand('settime', { cloudtime: instant, timeZone: 'Europe/Berlin' }).cloudtime).toBe(
      '2024-07-01 12:00:00',
    );
    expect(buildCommand('settime', { cloudtime: '2024-07-01T10:00:00Z', timeZone: 'Asia/Baghdad' }).cloudtime).toBe(
      '2024-07-01 13:00:00',
    );
  });

  it('settime with only a zone sends the current time there', () => {
    const before = formatTerminalTime(new Date(), 'Asia/Baghdad');
    const sent = buildCommand('settime', { timeZone: 'Asia/Baghdad' }).cloudtime as string;
    const after = formatTerminalTime(new Date(), 'Asia/Baghdad');
    expect(sent >= before && sent <= after).toBe(true);
  });

  it('settime rejects a missing, ISO-without-zone-knowledge or bogus cloudtime and bad zones', () => {
    expect(error(() => buildCommand('settime', {})).field).toBe('cloudtime');
    expect(error(() => buildCommand('settime', { cloudtime: '2024-07-01T10:00:00Z' })).field).toBe('cloudtime');
    expect(error(() => buildCommand('settime', { cloudtime: 'now' })).field).toBe('cloudtime');
    expect(error(() => buildCommand('settime', { cloudtime: new Date() })).field).toBe('timeZone');
    expect(error(() => buildCommand('settime', { timeZone: 'Moon/Base' })).field).toBe('timeZone');
  });
});

describe('buildCommand: device and door settings', () => {
  it('setdevinfo sends only the given fields, sleep as 0/1', () => {
    expect(buildCommand('setdevinfo', { volume: '6', sleep: true, language: 12 })).toEqual({
      cmd: 'setdevinfo',
      language: 12,
      volume: 6,
      sleep: 1,
    });
    expect(error(() => buildCommand('setdevinfo', { volume: 11 })).field).toBe('volume');
    expect(error(() => buildCommand('setdevinfo', { userfpnum: 0 })).field).toBe('userfpnum');
    expect(error(() => buildCommand('setdevinfo', {})).message).toMatch(/at least one/);
  });

  it('opendoor with and without a door number', () => {
    expect(buildCommand('opendoor', {})).toEqual({ cmd: 'opendoor' });
    expect(buildCommand('opendoor', { doornum: 2 })).toEqual({ cmd: 'opendoor', doornum: 2 });
    expect(error(() => buildCommand('opendoor', { doornum: 5 })).field).toBe('doornum');
  });

  it('lockctrl sends fuc 1-6', () => {
    expect(buildCommand('lockctrl', { fuc: 1 })).toEqual({ cmd: 'lockctrl', fuc: 1 });
    expect(buildCommand('lockctrl', { ctrl: '6' })).toEqual({ cmd: 'lockctrl', fuc: 6 });
    expect(error(() => buildCommand('lockctrl', { fuc: 7 })).field).toBe('fuc');
    expect(error(() => buildCommand('lockctrl', {})).field).toBe('fuc');
  });

  it('setdevlock keeps the InputAlarm spelling and validates zones', () => {
    const frame = buildCommand('setdevlock', {
      opendelay: 5,
      inputalarm: 1,
      mutiopen: 2,
      dayzone: [{ day: [{ section: '08:00~12:00' }, { section: '13:00~18:00' }] }],
      weekzone: [{ week: [1, 1, 1, 1, 1, 0, 0].map((day) => ({ day })) }],
      lockgroup: [{ group: '123' }],
    });
    expect(frame).toEqual({
      cmd: 'setdevlock',
      opendelay: 5,
      InputAlarm: 1,
      mutiopen: 2,
      dayzone: [{ day: [{ section: '08:00~12:00' }, { section: '13:00~18:00' }] }],
      weekzone: [{ week: [1, 1, 1, 1, 1, 0, 0].map((day) => ({ day })) }],
      lockgroup: [{ group: 123 }],
    });
    expect(error(() => buildCommand('setdevlock', { dayzone: [{ day: [{ section: '8-12' }] }] })).field).toBe(
      'dayzone[0].day[0].section',
    );
    expect(error(() => buildCommand('setdevlock', { weekzone: [{ week: [{ day: 1 }] }] })).field).toBe(
      'weekzone[0].week',
    );
    expect(error(() => buildCommand('setdevlock', { threat: 4 })).field).toBe('threat');
    expect(error(() => buildCommand('setdevlock', {})).field).toBe('payload');
  });

  it('user locks', () => {
    expect(buildCommand('getuserlock', { enrollid: 1 })).toEqual({ cmd: 'getuserlock', enrollid: 1 });
    expect(buildCommand('deleteuserlock', { enrollid: 1 })).toEqual({ cmd: 'deleteuserlock', enrollid: 1 });
    expect(
      buildCommand('setuserlock', {
        record: [{ enrollid: 1, weekzone: 1, group: 2, starttime: '2024-1-1 0:0:0', endtime: '2099-12-31' }],
      }),
    ).toEqual({
      cmd: 'setuserlock',
      count: 1,
      record: [{ enrollid: 1, weekzone: 1, group: 2, starttime: '2024-01-01 00:00:00', endtime: '2099-12-31' }],
    });
    const tooMany = Array.from({ length: 41 }, (_, i) => ({ enrollid: i + 1 }));
    expect(error(() => buildCommand('setuserlock', { record: tooMany })).message).toMatch(/at most 40/);
    expect(error(() => buildCommand('setuserlock', { record: [{ enrollid: 1, group: 10 }] })).field).toBe(
      'record[0].group',
    );
  });

  it('holidays: at most 30, days as MM-DD', () => {
    expect(
      buildCommand('setholiday', {
        holidays: [{ name: 'New year', startday: '01-01', endday: '01-02', shift: 1, dayzone: 0 }],
      }),
    ).toEqual({
      cmd: 'setholiday',
      holidays: [{ name: 'New year', startday: '01-01', endday: '01-02', shift: 1, dayzone: 0 }],
    });
    expect(error(() => buildCommand('setholiday', { holidays: [{ startday: '1-1', endday: '01-02' }] })).field).toBe(
      'holidays[0].startday',
    );
    const many = Array.from({ length: 31 }, () => ({ startday: '01-01', endday: '01-01' }));
    expect(error(() => buildCommand('setholiday', { holidays: many })).message).toMatch(/at most 30/);
  });

  it('questionnaire: item and schedule limits', () => {
    expect(
      buildCommand('setquestionnaire', {
        title: 'Why late?',
        radio: true,
        items: ['Traffic', 'Other'],
        schedules: ['08:00-09:00*1'],
      }),
    ).toEqual({
      cmd: 'setquestionnaire',
      title: 'Why late?',
      radio: true,
      items: ['Traffic', 'Other'],
      schedules: ['08:00-09:00*1'],
    });
    expect(error(() => buildCommand('setquestionnaire', { radio: false, items: Array(9).fill('x') })).message).toMatch(
      /at most 8/,
    );
    expect(buildCommand('setquestionnaire', { radio: true, items: Array(16).fill('x') }).items).toHaveLength(16);
    expect(error(() => buildCommand('setquestionnaire', { schedules: ['8-9'] })).field).toBe('schedules[0]');
  });
});
