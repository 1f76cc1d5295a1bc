import { LogPaging, logRecordKey, userListDone } from './paging';

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

describe('LogPaging', () => {
  const keys = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => logRecordKey({ enrollid: 1, time: `t${from + i}`, mode: 1 }));

  it('keeps asking after the reported total and ends on an empty page', () => {
    const p = new LogPaging();
    expect(p.accept({ count: 3 }, keys(0, 2))).toEqual({ kind: 'more', fresh: [0, 1] });
    expect(p.accept({ count: 3 }, keys(2, 1))).toEqual({ kind: 'more', fresh: [0] });
    expect(p.timeoutIsComplete).toBe(true);
    expect(p.accept({ count: 0 }, [])).toEqual({ kind: 'done', fresh: [], end: 'empty_page' });
    expect({ received: p.received, pages: p.pages }).toEqual({ received: 3, pages: 3 });
  });

  it('reads past a count that is the page size, not the total', () => {
    const p = new LogPaging();
    for (let page = 0; page < 3; page++) expect(p.accept({ count: 10 }, keys(page * 10, 10)).kind).toBe('more');
    expect(p.accept({ count: 4 }, keys(30, 4)).kind).toBe('more');
    expect(p.accept({ count: 0 }, []).kind).toBe('done');
    expect(p.received).toBe(34);
  });

  it('ends on a page that only repeats records already received', () => {
    const p = new LogPaging();
    p.accept({ count: 2 }, keys(0, 2));
    expect(p.accept({ count: 2 }, keys(0, 2))).toEqual({ kind: 'done', fresh: [], end: 'repeated_page' });
    expect(p.received).toBe(2);
  });

  it('keeps only the new records of a page that partly overlaps', () => {
    const p = new LogPaging();
    p.accept({}, keys(0, 3));
    expect(p.accept({}, keys(2, 3))).toEqual({ kind: 'more', fresh: [1, 2] });
  });

  it('a timeout is complete only once the reported total has arrived', () => {
    const p = new LogPaging();
    expect(p.timeoutIsComplete).toBe(false);
    p.accept({ count: 100 }, keys(0, 50));
    expect(p.timeoutIsComplete).toBe(false);
    const q = new LogPaging();
    q.accept({}, keys(0, 5));
    expect(q.timeoutIsComplete).toBe(false);
  });
});
