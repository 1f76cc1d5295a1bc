import { parseCommandReply } from './command-replies';
import type { CommandReply, ServerCommand } from './types';

function okReply<C extends ServerCommand>(cmd: C, msg: Record<string, unknown>): CommandReply<C> {
  const r = parseCommandReply(cmd, msg);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function data<C extends ServerCommand>(cmd: C, msg: Record<string, unknown>) {
  const r = okReply(cmd, msg);
  if (!r.success) throw new Error('expected success');
  return r.data;
}

describe('parseCommandReply', () => {
  it('reads a getuserlist packet with admin as a string (S5)', () => {
    const d = data('getuserlist', {
      ret: 'getuserlist',
      sn: 'ZX1',
      result: true,
      count: 2,
      from: 0,
      to: 1,
      record: [
        { enrollid: 1, admin: '0', backupnum: 0 },
        { enrollid: '1', admin: 1, backupnum: '50' },
      ],
    });
    expect(d.count).toBe(2);
    expect(d.records.map(({ enrollid, admin, backupnum }) => ({ enrollid, admin, backupnum }))).toEqual([
      { enrollid: 1, admin: 0, backupnum: 0 },
      { enrollid: 1, admin: 1, backupnum: 50 },
    ]);
  });

  it('treats an empty user list as success with no rows', () => {
    const d = data('getuserlist', { ret: 'getuserlist', result: true, count: 0, from: 0, to: 0, record: [] });
    expect(d).toEqual({ count: 0, from: 0, to: 0, records: [] });
    expect(data('getuserlist', { ret: 'getuserlist', result: true }).records).toEqual([]);
  });

  it('rejects a user list packet with an invalid enrollid as a whole', () => {
    const r = parseCommandReply('getuserlist', {
      ret: 'getuserlist',
      result: true,
      record: [
        { enrollid: 1, backupnum: 0 },
        { enrollid: 'x', backupnum: 0 },
      ],
    });
    expect(r).toEqual({ ok: false, reason: 'getuserlist reply: record[1]: enrollid "x" is not an integer' });
  });

  it('reads getuserinfo, card and password records as numbers', () => {
    expect(
      data('getuserinfo', {
        ret: 'getuserinfo',
        result: true,
        enrollid: '2',
        name: 'Sally',
        backupnum: 11,
        admin: '0',
        record: '884422',
      }),
    ).toEqual({
      enrollid: 2,
      name: 'Sally',
      backupnum: 11,
      admin: 0,
      record: 884422,
    });
    expect(
      data('getuserinfo', { ret: 'getuserinfo', result: true, enrollid: 2, backupnum: 0, record: 'AB(3)' }).record,
    ).toBe('AB(3)');
  });

  it('reads a failure with its integer reason', () => {
    const r = okReply('getuserinfo', { ret: 'getuserinfo', sn: 'ZX1', result: false, reason: '1' });
    expect(r).toMatchObject({ success: false, reason: 1, sn: 'ZX1', cmd: 'getuserinfo' });
    expect(okReply('adduser', { ret: 'adduser', result: false, reason: 2 })).toMatchObject({
      success: false,
      reason: 2,
    });
  });

  it('accepts result as 1/0 and "true"/"false"', () => {
    expect(okReply('cleanlog', { ret: 'cleanlog', result: 1 }).success).toBe(true);
    expect(okReply('cleanlog', { ret: 'cleanlog', result: 'false' }).success).toBe(false);
  });

  it('gettime has no result key and is a success', () => {
    expect(okReply('gettime', { ret: 'gettime', sn: 'ZX1', time: '2024-05-01 08:00:00' })).toMatchObject({
      success: true,
      data: { time: '2024-05-01 08:00:00' },
    });
  });

  it('other replies without a usable result are not understood', () => {
    expect(parseCommandReply('cleanlog', { ret: 'cleanlog' })).toEqual({
      ok: false,
      reason: 'cleanlog reply has no usable result (got missing)',
    });
    expect(parseCommandReply('cleanlog', { ret: 'cleanlog', result: 'yes?' }).ok).toBe(false);
  });

  it('rejects a reply to another command, but accepts the getdevlock typo', () => {
    expect(parseCommandReply('getuserinfo', { ret: 'getuserlist', result: true })).toEqual({
      ok: false,
      reason: 'reply "getuserlist" does not answer "getuserinfo"',
    });
    expect(okReply('getdevlock', { ret: 'setdevlock', result: false, reason: 1 })).toMatchObject({
      success: false,
      ret: 'setdevlock',
    });
  });

  it('reads log packets: count is the total, records use the log record rules', () => {
    const d = data('getnewlog', {
      ret: 'getnewlog',
      result: true,
      count: '120',
      from: 50,
      to: 99,
      record: [
        { enrollid: '5', time: '2024-05-01 08:00:00', mode: 1, inout: 0, event: 0 },
        { enrollid: 0, time: '2024-05-01 08:01:00', mode: 0, inout: 1, event: 1 },
      ],
    });
    expect(d.count).toBe(120);
    expect(d.from).toBe(50);
    expect(d.records.map((r) => r.enrollid)).toEqual([5, 0]);
  });

  it('keeps a log packet whose record has no time, that record rejected with its reason', () => {
    const good = { enrollid: 2, time: '2024-05-01 08:00:00' };
    const r = parseCommandReply('getalllog', {
      ret: 'getalllog',
      result: true,
      count: 2,
      record: [{ enrollid: 1 }, good],
    });
    expect(r.ok).toBe(true);
    if (!r.ok || !r.value.success) throw new Error('expected a successful reply');
    expect(r.value.data.records.map((x) => x.enrollid)).toEqual([2]);
    expect(r.value.data.rejected).toEqual([
      { index: 0, raw: { enrollid: 1 }, reason: 'time missing is not a terminal time' },
    ]);
  });

  it('getusername and getuserprofile return the record text', () => {
    expect(data('getusername', { ret: 'getusername', result: true, enrollid: 3, record: 'Zoë' })).toEqual({
      enrollid: 3,
      name: 'Zoë',
    });
    expect(data('getuserprofile', { ret: 'getuserprofile', result: true, enrollid: 0, record: 'Hi all' })).toEqual({
      enrollid: 0,
      profile: 'Hi all',
    });
  });

  it('getdevinfo coerces numbers and sleep booleans', () => {
    expect(
      data('getdevinfo', {
        ret: 'getdevinfo',
        result: true,
        deviceid: '1',
        language: 0,
        volume: '6',
        sleep: true,
        userfpnum: 3,
      }),
    ).toEqual({
      deviceid: 1,
      language: 0,
      volume: 6,
      sleep: 1,
      userfpnum: 3,
    });
  });

  it('getdevlock keeps zones and the InputAlarm spelling', () => {
    const d = data('getdevlock', {
      ret: 'getdevlock',
      sn: 'A',
      result: true,
      opendelay: '5',
      InputAlarm: 1,
      dayzone: [{ day: [{ section: '08:00~12:00' }] }],
    });
    expect(d).toEqual({ opendelay: 5, InputAlarm: 1, dayzone: [{ day: [{ section: '08:00~12:00' }] }] });
  });

  it('getuserlock, getholiday, getquestionnaire, getdevcap', () => {
    expect(
      data('getuserlock', {
        ret: 'getuserlock',
        result: true,
        enrollid: 1,
        weekzone: '2',
        group: 0,
        starttime: 'a',
        endtime: 'b',
      }),
    ).toEqual({
      enrollid: 1,
      weekzone: 2,
      group: 0,
      starttime: 'a',
      endtime: 'b',
    });
    expect(
      data('getholiday', {
        ret: 'getholiday',
        result: true,
        holidays: [{ name: 'x', startday: '01-01', endday: '01-01' }, 5],
      }).holidays,
    ).toHaveLength(1);
    expect(parseCommandReply('getholiday', { ret: 'getholiday', result: true, holidays: 'x' }).ok).toBe(false);
    expect(
      data('getquestionnaire', { ret: 'getquestionnaire', result: true, title: 'T', radio: 1, items: ['a', 2] }),
    ).toEqual({ title: 'T', radio: true, items: ['a', '2'] });
    expect(
      data('getdevcap', { ret: 'getdevcap', sn: 'A', result: true, usersize: '3000', usedfp: 12, note: 'x' }),
    ).toEqual({ usersize: 3000, usedfp: 12 });
  });

  it('setuserinfo and adduser replies carry enrollid', () => {
    expect(data('setuserinfo', { ret: 'setuserinfo', result: true, enrollid: '9' })).toEqual({ enrollid: 9 });
    expect(data('adduser', { ret: 'adduser', result: true })).toEqual({});
    expect(parseCommandReply('adduser', { ret: 'adduser', result: true, enrollid: -3 }).ok).toBe(false);
  });

  it('commands without data keep extra keys', () => {
    expect(data('cleanlog', { ret: 'cleanlog', sn: 'A', result: true, extra: 1 })).toEqual({ extra: 1 });
  });
});
