import { logListDone, userListDone } from './paging';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ enrollid: i + 1, backupnum: 0 }));

describe('userListDone', () => {
  it('continues after a full packet of 40', () => {
    expect(userListDone({ count: 40, records: rows(40) })).toBe(false);
  });

  it('is done after a short packet', () => {
    expect(userListDone({ count: 39, records: rows(39) })).toBe(true);
    expect(userListDone({ count: 1, records: rows(1) })).toBe(true);
  });

  it('is done after an empty packet (empty set is a success)', () => {
    expect(userListDone({ count: 0, records: [] })).toBe(true);
    expect(userListDone({})).toBe(true);
  });

  it('reads raw packets (record or data) too and trusts the rows over count', () => {
    expect(userListDone({ count: 40, record: rows(40) })).toBe(false);
    expect(userListDone({ count: 40, data: rows(12) })).toBe(true);
  });
});

describe('logListDone', () => {
  it('continues while fewer rows than the total have arrived', () => {
    expect(logListDone(50, { count: 120, records: rows(50) })).toBe(false);
    expect(logListDone(100, { count: '120', records: rows(50) })).toBe(false);
  });

  it('is done when the received rows reach the total', () => {
    expect(logListDone(120, { count: 120, records: rows(20) })).toBe(true);
    expect(logListDone(50, { count: 50, records: rows(50) })).toBe(true);
    expect(logListDone(1, { count: 1, records: rows(1) })).toBe(true);
  });

  it('is done on an empty packet whatever count says', () => {
    expect(logListDone(0, { count: 0, records: [] })).toBe(true);
    expect(logListDone(50, { count: 120, records: [] })).toBe(true);
  });

  it('without a usable total only an empty packet ends it', () => {
    expect(logListDone(10, { records: rows(10) })).toBe(false);
    expect(logListDone(10, { count: 'n/a', records: rows(10) })).toBe(false);
    expect(logListDone(10, { records: [] })).toBe(true);
  });
});
