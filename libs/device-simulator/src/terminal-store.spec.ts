import type { Json } from '@app/device-protocol';
import { TerminalClock, TerminalStore } from './terminal-store';

const reply = (store: TerminalStore, cmd: string, msg: Json = {}): Json => {
  const r = store.handle(cmd, { cmd, ...msg }).reply;
  if (!r) throw new Error(`no reply to ${cmd}`);
  return r;
};

const user = (enrollid: number, backupnums: number[] = [0]) => ({
  enrollid,
  name: `U${enrollid}`,
  admin: 0,
  credentials: backupnums.map((b) => ({ backupnum: b, record: b === 10 || b === 11 ? 1234 : 'AB(3)CD' })),
});

describe('TerminalClock', () => {
  it('adopts only strict YYYY-MM-DD HH:MM:SS times', () => {
    const clock = new TerminalClock('UTC');
    expect(clock.adopt('2020-01-02 03:04:05')).toBe(true);
    expect(clock.now().startsWith('2020-01-02 03:0')).toBe(true);
    for (const bad of ['2020-01-02T03:04:05Z', '2020-1-2 3:4:5', '2020-02-30 00:00:00', 5, undefined]) {
      expect(clock.adopt(bad)).toBe(false);
    }
  });
});

describe('TerminalStore', () => {
  it('answers with ret and sn first, gettime without result, unknown and reboot with silence', () => {
    const store = new TerminalStore({ sn: 'ZX1' });
    expect(Object.keys(reply(store, 'cleanlog')).slice(0, 2)).toEqual(['ret', 'sn']);
    const time = reply(store, 'gettime');
    expect(time).not.toHaveProperty('result');
    expect(time.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(store.handle('getalluser', {})).toEqual({ reply: null });
    expect(store.handle('reboot', {})).toEqual({ reply: null, reboot: true });
  });

  it('computes devinfo usage from its data', () => {
    const store = new TerminalStore({
      sn: 'ZX1',
      users: [user(1, [0, 1, 10]), user(2, [0, 11, 50])],
      logs: [{ enrollid: 1 }, { enrollid: 2 }],
    });
    store.logs[0].delivered = true;
    const info = store.devinfo({ modelname: 'tfs30' });
    expect(info).toMatchObject({
      modelname: 'tfs30',
      useduser: 2,
      usedfp: 3,
      usedpwd: 1,
      usedcard: 1,
      usedface: 1,
      usedlog: 2,
      usednewlog: 1,
    });
    expect(info.mac).toMatch(/^00-01-A9-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$/);
    expect(reply(store, 'getdevcap')).toMatchObject({ result: true, useduser: 2, usedfp: 3, usersize: 3000 });
  });

  it('is strict about card and password records and enroll ids', () => {
    const store = new TerminalStore({ sn: 'ZX1' });
    expect(reply(store, 'setuserinfo', { enrollid: 5, backupnum: 11, record: '1234' })).toMatchObject({
      result: false,
      reason: 1,
    });
    expect(reply(store, 'setuserinfo', { enrollid: '5', backupnum: 0, record: 'x' })).toMatchObject({ result: false });
    expect(reply(store, 'setuserinfo', { enrollid: 5, backupnum: 10, record: 123456789 })).toMatchObject({
      result: false,
    });
    expect(reply(store, 'setuserinfo', { enrollid: 5, backupnum: 11, record: 1234, name: 'Card' })).toEqual({
      ret: 'setuserinfo',
      sn: 'ZX1',
      result: true,
      enrollid: 5,
    });
    expect(store.users.get(5)).toMatchObject({ name: 'Card', credentials: [{ backupnum: 11, record: 1234 }] });
  });

  it('enableuser accepts the vendor "enrolled" typo and needs a known user', () => {
    const store = new TerminalStore({ sn: 'ZX1', users: [user(1)] });
    expect(reply(store, 'enableuser', { enrolled: 1, enflag: 0 }).result).toBe(true);
    expect(store.users.get(1)?.enabled).toBe(false);
    expect(reply(store, 'enableuser', { enrollid: 9, enflag: 1 })).toMatchObject({ result: false, reason: 1 });
  });

  it('getalllog filters by date and pages 50 at a time with count = total', () => {
    const logs = [
      ...Array.from({ length: 60 }, () => ({ enrollid: 1, time: '2024-05-01 08:00:00' })),
      ...Array.from({ length: 5 }, () => ({ enrollid: 1, time: '2024-05-03 08:00:00' })),
    ];
    const store = new TerminalStore({ sn: 'ZX1', users: [user(1)], logs });
    const first = reply(store, 'getalllog', { stn: true, from: '2024-5-1', to: '2024-5-2' });
    expect(first).toMatchObject({ count: 60, from: 0, to: 49 });
    expect(reply(store, 'getalllog', { stn: false })).toMatchObject({ count: 60, from: 50, to: 59 });
    expect(reply(store, 'getalllog', { stn: false })).toMatchObject({ count: 60, from: 0, to: 0, record: [] });
    expect(reply(store, 'getalllog', { stn: true, from: '2024-5-3' })).toMatchObject({ count: 5 });
    expect(reply(store, 'getalllog', { stn: true, from: 'yesterday' })).toMatchObject({ result: false });
  });

  it('settings, locks, profiles, holidays and questionnaire round-trip', () => {
    const store = new TerminalStore({ sn: 'ZX1', users: [user(1)] });
    expect(reply(store, 'setdevinfo', { volume: 11 }).result).toBe(false);
    expect(reply(store, 'setdevinfo', { volume: 3, sleep: true }).result).toBe(true);
    expect(reply(store, 'getdevinfo')).toMatchObject({ volume: 3, sleep: 1, userfpnum: 3 });
    expect(reply(store, 'setdevlock', { opendelay: 9, InputAlarm: 2 }).result).toBe(true);
    expect(reply(store, 'getdevlock')).toMatchObject({ opendelay: 9, InputAlarm: 2 });
    expect(reply(store, 'setuserlock', { count: 1, record: [{ enrollid: 1, weekzone: 3 }] }).result).toBe(true);
    expect(reply(store, 'getuserlock', { enrollid: 1 })).toMatchObject({ enrollid: 1, weekzone: 3 });
    expect(reply(store, 'deleteuserlock', { enrollid: 1 }).result).toBe(true);
    expect(reply(store, 'getuserlock', { enrollid: 1 })).toMatchObject({ weekzone: 1 });
    expect(reply(store, 'getuserlock', { enrollid: 2 }).result).toBe(false);
    expect(reply(store, 'setuserprofile', { enrollid: 0, profile: 'Hello' })).toMatchObject({
      result: true,
      enrollid: 0,
    });
    expect(reply(store, 'getuserprofile', { enrollid: 0 })).toMatchObject({ record: 'Hello' });
    expect(reply(store, 'setuserprofile', { enrollid: 1, profile: 'x'.repeat(201) }).result).toBe(false);
    expect(reply(store, 'setholiday', { holidays: [{ name: 'NY', startday: '01-01', endday: '01-01' }] }).result).toBe(
      true,
    );
    expect(reply(store, 'getholiday', { stn: true })).toMatchObject({ holidays: [{ name: 'NY' }] });
    expect(reply(store, 'setquestionnaire', { title: 'Q', items: ['a'] }).result).toBe(true);
    expect(reply(store, 'getquestionnaire', { stn: true })).toMatchObject({ title: 'Q', items: ['a'] });
    expect(reply(store, 'settime', { cloudtime: '2030-01-01T00:00:00Z' }).result).toBe(false);
    expect(reply(store, 'settime', { cloudtime: '2030-01-01 00:00:00' }).result).toBe(true);
    expect(reply(store, 'opendoor', { doornum: 5 }).result).toBe(false);
    expect(store.handle('opendoor', { doornum: 2 }).door).toBe(2);
    expect(store.handle('lockctrl', { fuc: 5 })).toMatchObject({ reply: { result: true }, reboot: true });
    expect(reply(store, 'lockctrl', { fuc: 0 }).result).toBe(false);
  });

  it('setusername creates or renames, at most 49 per packet; cleanadmin, cleanuser, initsys', () => {
    const store = new TerminalStore({ sn: 'ZX1', users: [{ ...user(1), admin: 1 }], logs: [{ enrollid: 1 }] });
    expect(
      reply(store, 'setusername', {
        count: 2,
        record: [
          { enrollid: 1, name: 'A' },
          { enrollid: 2, name: 'B' },
        ],
      }).result,
    ).toBe(true);
    expect(reply(store, 'getusername', { enrollid: 2 })).toMatchObject({ enrollid: 2, record: 'B' });
    const fifty = Array.from({ length: 50 }, (_, i) => ({ enrollid: i + 1, name: 'x' }));
    expect(reply(store, 'setusername', { count: 50, record: fifty }).result).toBe(false);
    reply(store, 'cleanadmin');
    expect(store.users.get(1)?.admin).toBe(0);
    reply(store, 'initsys');
    expect(store.users.size + store.logs.length).toBe(0);
  });
});

describe('TerminalStore quirks (terminals in the field)', () => {
  const logs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ enrollid: 1, time: `2026-05-01 08:00:${String(i).padStart(2, '0')}` }));

  it('pages logs with count = the page size, then an empty page', () => {
    const store = new TerminalStore({ sn: 'ZX1', users: [user(1)], logs: logs(12), quirks: { countIsPageSize: 5 } });
    const pages = [reply(store, 'getnewlog', { stn: true })];
    for (let i = 0; i < 3; i++) pages.push(reply(store, 'getnewlog', { stn: false }));
    expect(pages.map((p) => [p.count, (p.record as Json[]).length])).toEqual([
      [5, 5],
      [5, 5],
      [2, 2],
      [0, 0],
    ]);
  });

  it('adds a dead-battery record to each log page, and stays silent to getnewlog when told to', () => {
    const bad = new TerminalStore({ sn: 'ZX1', users: [user(1)], logs: logs(2), quirks: { badRecordInFrames: true } });
    const page = reply(bad, 'getalllog', { stn: true });
    expect((page.record as Json[]).map((r) => r.time)).toEqual([
      '2026-05-01 08:00:00',
      '2026-05-01 08:00:01',
      '0000-00-00 00:00:00',
    ]);
    const deaf = new TerminalStore({ sn: 'ZX2', logs: logs(2), quirks: { ignoresGetnewlog: true } });
    expect(deaf.handle('getnewlog', { stn: true })).toEqual({ reply: null });
  });

  it('names punches after their user, and keeps a clock years ahead whatever cloudtime says', () => {
    const store = new TerminalStore({
      sn: 'ZX1',
      users: [user(7)],
      quirks: { sendsName: true, clockAheadMs: 3 * 365 * 86_400_000 },
    });
    expect(store.addLog({ enrollid: 7 }).name).toBe('U7');
    expect(store.clock.adopt('2020-01-02 03:04:05')).toBe(true);
    expect(Number(store.clock.now().slice(0, 4))).toBeGreaterThanOrEqual(new Date().getUTCFullYear() + 2);
  });
});
