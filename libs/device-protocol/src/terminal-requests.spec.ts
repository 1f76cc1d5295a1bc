import { parseDevInfo, parseLogRecord, parseQrcode, parseReg, parseSendlog, parseSenduser } from './terminal-requests';

const ok = <T>(r: { ok: true; value: T } | { ok: false; reason: string }): T => {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.value;
};
const reason = (r: { ok: boolean; reason?: string }): string | undefined => (r.ok ? undefined : r.reason);

describe('parseReg', () => {
  it('reads a full reg with devinfo, coercing numbers sent as strings', () => {
    const msg = {
      cmd: 'reg',
      sn: 'ZXRE06022863',
      cpusn: '0123ABC',
      devinfo: {
        modelname: 'tfs30',
        usersize: '3000',
        fpsize: 3000,
        useduser: '12',
        usednewlog: 5,
        fpalgo: 'thbio3.0',
        firmware: 'th600w v6.1',
        time: '2024-05-01 08:00:00',
        mac: '00-01-A9-11-22-33',
        netinuse: 1,
        dislanguage: 'en',
      },
    };
    const reg = ok(parseReg(msg));
    expect(reg.sn).toBe('ZXRE06022863');
    expect(reg.cpusn).toBe('0123ABC');
    expect(reg.devinfo).toEqual({
      modelname: 'tfs30',
      usersize: 3000,
      fpsize: 3000,
      useduser: 12,
      usednewlog: 5,
      fpalgo: 'thbio3.0',
      firmware: 'th600w v6.1',
      time: '2024-05-01 08:00:00',
      mac: '00-01-A9-11-22-33',
      netinuse: 1,
      dislanguage: 'en',
    });
    expect(reg.raw).toBe(msg);
  });

  it('accepts a reg without cpusn and without devinfo (S5/S6 payloads)', () => {
    const reg = ok(parseReg({ cmd: 'reg', sn: 'ZYTI25116685' }));
    expect(reg).toEqual({ sn: 'ZYTI25116685', devinfo: {}, raw: { cmd: 'reg', sn: 'ZYTI25116685' } });
  });

  it('drops known numeric devinfo fields that are not numbers, keeps the rest', () => {
    const reg = ok(parseReg({ sn: 'A1', devinfo: { usersize: 'lots', logsize: null, firmware: 517 } }));
    expect(reg.devinfo).toEqual({ firmware: '517' });
  });

  it('ignores a devinfo that is not an object', () => {
    expect(parseDevInfo('x')).toEqual({});
    expect(parseDevInfo([1])).toEqual({});
  });

  it('trims the sn and accepts a numeric sn', () => {
    expect(ok(parseReg({ sn: '  AYTE123 ' })).sn).toBe('AYTE123');
    expect(ok(parseReg({ sn: 12345678 })).sn).toBe('12345678');
  });

  it.each([[undefined], [''], ['   '], ['bad sn'], ['a/b'], ['x'.repeat(65)], [{}]])('rejects sn %p', (sn) => {
    expect(reason(parseReg({ cmd: 'reg', sn }))).toMatch(/^sn /);
  });
});

describe('parseLogRecord', () => {
  it('reads a full record and keeps raw without the image', () => {
    const rec = ok(
      parseLogRecord({
        enrollid: 7,
        time: '2024-05-01 08:00:00',
        mode: 1,
        inout: 0,
        event: 0,
        verifymode: 13,
        temp: 36.6,
        image: '/9j/AAAA',
        name: 'Ann',
      }),
    );
    expect(rec).toEqual({
      enrollid: 7,
      time: '2024-05-01 08:00:00',
      mode: 1,
      inout: 0,
      event: 0,
      verifymode: 13,
      temp: 36.6,
      image: '/9j/AAAA',
      name: 'Ann',
      raw: {
        enrollid: 7,
        time: '2024-05-01 08:00:00',
        mode: 1,
        inout: 0,
        event: 0,
        verifymode: 13,
        temp: 36.6,
        name: 'Ann',
      },
    });
  });

  it('accepts enrollid, mode, inout, event and temp as strings (S6)', () => {
    const rec = ok(
      parseLogRecord({
        enrollid: '101072',
        time: '2024-05-01 08:00:00',
        mode: '8',
        inout: '1',
        event: '0',
        temp: '36.5',
      }),
    );
    expect(rec).toMatchObject({ enrollid: 101072, mode: 8, inout: 1, event: 0, temp: 36.5 });
  });

  it('keeps the time text exactly as sent', () => {
    expect(ok(parseLogRecord({ enrollid: 1, time: '2024-5-1 8:00:00' })).time).toBe('2024-5-1 8:00:00');
  });

  it('falls back to attmode, then verify, for a missing mode (S8)', () => {
    expect(ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', attmode: 3 })).mode).toBe(3);
    expect(ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', verify: '2' })).mode).toBe(2);
    expect(ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', mode: 0, attmode: 3 })).mode).toBe(0);
  });

  it('keeps ambiguous enum values raw, never mapping them', () => {
    const rec = ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', mode: 50, verifymode: 24, inout: 5 }));
    expect(rec).toMatchObject({ mode: 50, verifymode: 24, inout: 5 });
  });

  it('leaves an unreadable mode out but keeps it in raw', () => {
    const rec = ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', mode: 'face' }));
    expect(rec.mode).toBeUndefined();
    expect(rec.raw.mode).toBe('face');
  });

  it('rejects a record whose event or inout is there but no integer (never stored as 0)', () => {
    expect(reason(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', event: 'in' }))).toBe(
      'event "in" is not an integer',
    );
    expect(reason(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', inout: [] }))).toBe(
      'inout an array is not an integer',
    );
    expect(ok(parseLogRecord({ enrollid: 1, time: '2024-05-01 08:00:00', event: '2', inout: null })).event).toBe(2);
  });

  it('accepts enrollid 0 (door events)', () => {
    expect(ok(parseLogRecord({ enrollid: 0, time: '2024-05-01 08:00:00', mode: 0, inout: 1, event: 6 })).event).toBe(6);
  });

  it.each([[-1], [1_000_000_000_000], ['abc'], [1.5], [''], [null], [undefined], [true]])(
    'rejects enrollid %p',
    (enrollid) => {
      expect(reason(parseLogRecord({ enrollid, time: '2024-05-01 08:00:00' }))).toMatch(/^enrollid /);
    },
  );

  it('accepts the highest 8-digit enrollid', () => {
    expect(ok(parseLogRecord({ enrollid: '123456789012', time: '2024-05-01 08:00:00' })).enrollid).toBe(
      123_456_789_012,
    );
  });

  it.each([[undefined], [''], ['not a time'], [1714550400], ['2024-02-30 08:00:00']])('rejects time %p', (time) => {
    expect(reason(parseLogRecord({ enrollid: 1, time }))).toMatch(/^time /);
  });

  it('rejects a record that is not an object', () => {
    expect(reason(parseLogRecord('x'))).toMatch(/not an object/);
  });
});

describe('parseSendlog', () => {
  const rec = (enrollid: unknown, time = '2024-05-01 08:00:00') => ({ enrollid, time, mode: 1, inout: 0, event: 0 });

  it('reads count, logindex (strings accepted) and records', () => {
    const value = ok(
      parseSendlog({ cmd: 'sendlog', sn: 'ZX1', count: '2', logindex: '17', record: [rec(1), rec('2')] }),
    );
    expect(value.count).toBe(2);
    expect(value.logindex).toBe(17);
    expect(value.records.map((r) => r.enrollid)).toEqual([1, 2]);
  });

  it('accepts the records under data instead of record (S9)', () => {
    expect(ok(parseSendlog({ sn: 'ZX1', data: [rec(3)] })).records[0].enrollid).toBe(3);
  });

  it('accepts a single record object instead of a list', () => {
    expect(ok(parseSendlog({ sn: 'ZX1', record: rec(4) })).records).toHaveLength(1);
  });

  it('accepts an empty record list and leaves count/logindex out when absent', () => {
    expect(ok(parseSendlog({ sn: 'ZX1', record: [] }))).toEqual({ sn: 'ZX1', records: [], rejected: [] });
  });

  it('splits a frame: a record with an invalid enrollid is rejected, the others kept', () => {
    const v = ok(parseSendlog({ sn: 'ZX1', count: 3, logindex: 1, record: [rec(1), rec(-5), rec(3)] }));
    expect(v.records.map((r) => r.enrollid)).toEqual([1, 3]);
    expect(v.rejected).toEqual([{ index: 1, raw: rec(-5), reason: 'enrollid -5 is out of range 0..999999999999' }]);
    expect(v).toMatchObject({ count: 3, logindex: 1 });
  });

  it('splits a frame: a record with an unusable time is rejected, the others kept', () => {
    const v = ok(parseSendlog({ sn: 'ZX1', record: [rec(1), rec(2, '31/12/2024'), 'junk'] }));
    expect(v.records.map((r) => r.enrollid)).toEqual([1]);
    expect(v.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(v.rejected[0].reason).toMatch(/^time /);
    expect(v.rejected[1]).toEqual({ index: 2, raw: 'junk', reason: 'record is "junk", not an object' });
  });

  it('rejects a sendlog without records, with a non-list record or without sn', () => {
    expect(reason(parseSendlog({ sn: 'ZX1' }))).toBe('sendlog has no record list');
    expect(reason(parseSendlog({ sn: 'ZX1', record: 'x' }))).toMatch(/not a list/);
    expect(reason(parseSendlog({ record: [] }))).toMatch(/^sn /);
  });

  it('drops a count or logindex that is not a number instead of echoing garbage', () => {
    const value = ok(parseSendlog({ sn: 'ZX1', count: 'two', logindex: {}, record: [rec(1)] }));
    expect(value.count).toBeUndefined();
    expect(value.logindex).toBeUndefined();
  });
});

describe('parseSenduser', () => {
  it('reads a fingerprint enrolment', () => {
    const v = ok(
      parseSenduser({
        cmd: 'senduser',
        sn: 'ZX1',
        enrollid: 5,
        name: 'Bob',
        backupnum: 0,
        admin: 0,
        record: 'ABC(12)DEF',
      }),
    );
    expect(v).toMatchObject({ sn: 'ZX1', enrollid: 5, name: 'Bob', backupnum: 0, admin: 0, record: 'ABC(12)DEF' });
  });

  it('accepts enrollid, admin and backupnum as strings (S5, S6)', () => {
    const v = ok(parseSenduser({ sn: 'ZX1', enrollid: '5', admin: '1', backupnum: '11', record: 1234567 }));
    expect(v).toMatchObject({ enrollid: 5, admin: 1, backupnum: 11, record: 1234567 });
  });

  it('reads card and password records sent as digit strings as numbers', () => {
    expect(ok(parseSenduser({ sn: 'ZX1', enrollid: 5, backupnum: 11, record: '0004419327' })).record).toBe(4419327);
    expect(ok(parseSenduser({ sn: 'ZX1', enrollid: 5, backupnum: 10, record: '123456' })).record).toBe(123456);
  });

  it('accepts the short form with only enrollid and name (S6)', () => {
    const v = ok(parseSenduser({ sn: 'ZX1', enrollid: 9, name: 12 }));
    expect(v).toEqual({ sn: 'ZX1', enrollid: 9, name: '12', raw: { sn: 'ZX1', enrollid: 9, name: 12 } });
  });

  it.each([[0], [-1], ['x'], [1_234_567_890_123]])('rejects enrollid %p', (enrollid) => {
    expect(reason(parseSenduser({ sn: 'ZX1', enrollid }))).toMatch(/^enrollid /);
  });

  it('accepts a 12-digit enrollid (Topdata readers)', () => {
    expect(ok(parseSenduser({ sn: 'ZX1', enrollid: 999_999_999_999 })).enrollid).toBe(999_999_999_999);
  });

  it('rejects a negative or non-numeric backupnum', () => {
    expect(reason(parseSenduser({ sn: 'ZX1', enrollid: 1, backupnum: -1 }))).toMatch(/backupnum/);
    expect(reason(parseSenduser({ sn: 'ZX1', enrollid: 1, backupnum: 'face' }))).toMatch(/backupnum/);
  });
});

describe('parseQrcode', () => {
  it('reads the QR text', () => {
    expect(ok(parseQrcode({ cmd: 'sendqrcode', sn: 'ZX1', record: 'EMP-42' })).record).toBe('EMP-42');
    expect(ok(parseQrcode({ sn: 'ZX1', record: 42 })).record).toBe('42');
  });

  it('rejects a missing or empty QR text', () => {
    expect(reason(parseQrcode({ sn: 'ZX1' }))).toMatch(/QR text/);
    expect(reason(parseQrcode({ sn: 'ZX1', record: '' }))).toMatch(/QR text/);
  });
});
