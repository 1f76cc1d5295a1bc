import { ObjectId } from 'bson';
import { Collection } from './collection';
import { CommandError } from './errors';
import { normaliseIndexSpec } from './indexes';
import { encodeDoc } from './raw-doc';
import { Store } from './store';
import { compareValues, parseSort } from './values';

function newCollection(): { coll: Collection; records: unknown[] } {
  const records: unknown[] = [];
  const coll = new Collection('db', 'c', {}, { record: (e) => records.push(e) });
  return { coll, records };
}

function fill(coll: Collection, n: number): ObjectId[] {
  const ids: ObjectId[] = [];
  for (let i = 0; i < n; i++) {
    const _id = new ObjectId();
    ids.push(_id);
    coll.insert({
      _id,
      n: i,
      group: `g${i % 100}`,
      at: new Date(1_700_000_000_000 + i * 1000),
      tags: [`t${i % 7}`, `u${i % 11}`],
    });
  }
  return ids;
}

describe('Collection query planning', () => {
  const N = 10_000;
  let coll: Collection;
  let ids: ObjectId[];

  beforeAll(() => {
    coll = newCollection().coll;
    ids = fill(coll, N);
    coll.createIndex(normaliseIndexSpec({ key: { group: 1, at: -1 }, name: 'group_1_at_-1' }));
    coll.createIndex(normaliseIndexSpec({ key: { n: 1 }, name: 'n_1' }));
    coll.createIndex(normaliseIndexSpec({ key: { tags: 1 }, name: 'tags_1' }));
  });

  function examine<T>(fn: () => T): { result: T; examined: number } {
    const before = coll.examined;
    const result = fn();
    return { result, examined: coll.examined - before };
  }

  it('looks up _id directly', () => {
    const { result, examined } = examine(() => coll.find({ _id: ids[1234] }));
    expect(result.map((d) => d.n)).toEqual([1234]);
    expect(examined).toBe(1);
    expect(coll.explain({ _id: { $in: [ids[1], ids[2]] } }).stage).toBe('IDHACK');
  });

  it('serves equality on an indexed field without scanning', () => {
    const { result, examined } = examine(() => coll.find({ n: 4321 }));
    expect(result).toHaveLength(1);
    expect(examined).toBe(1);
  });

  it('serves ranges on an indexed field without scanning', () => {
    const { result, examined } = examine(() => coll.find({ n: { $gte: 100, $lt: 150 } }));
    expect(result.map((d) => d.n)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(examined).toBe(50);
  });

  it('serves an equality prefix plus a range on a compound index', () => {
    const from = new Date(1_700_000_000_000 + 5000 * 1000);
    const { result, examined } = examine(() => coll.find({ group: 'g7', at: { $gte: from } }));
    expect(result.every((d) => d.group === 'g7' && (d.at as Date) >= from)).toBe(true);
    expect(result).toHaveLength(50);
    expect(examined).toBe(50);
  });

  it('serves multikey equality', () => {
    const { result, examined } = examine(() => coll.find({ tags: 't3' }));
    expect(result.length).toBe(Math.ceil((N - 3) / 7));
    expect(examined).toBe(result.length);
  });

  it('walks an index for sort + limit and stops early', () => {
    const { result, examined } = examine(() => coll.findSorted({ group: 'g5' }, parseSort({ at: -1 }), 0, 3));
    expect(result.map((d) => d.n)).toEqual([9905, 9805, 9705]);
    expect(examined).toBe(3);
    const desc = examine(() => coll.findSorted({}, parseSort({ n: -1 }), 10, 5));
    expect(desc.result.map((d) => d.n)).toEqual([9989, 9988, 9987, 9986, 9985]);
    // The ten skipped matches are passed by index position: only the page is read.
    expect(desc.examined).toBe(5);
  });

  it('unions index lookups for $or', () => {
    const { result, examined } = examine(() => coll.find({ $or: [{ n: 1 }, { n: 2 }, { _id: ids[3] }] }));
    expect(result.map((d) => d.n).sort()).toEqual([1, 2, 3]);
    expect(examined).toBe(3);
  });

  it('falls back to a scan for unindexed fields and gives the same answer', () => {
    expect(coll.explain({ missing: 1 }).stage).toBe('COLLSCAN');
    const viaIndex = coll.find({ n: { $in: [5, 6, 7] } }).map((d) => d.n);
    const viaScan = coll.find({ $expr: { $in: ['$n', [5, 6, 7]] } }).map((d) => d.n);
    expect(viaIndex.sort()).toEqual(viaScan.sort());
  });

  it('does not intersect range bounds on a multikey index (bounds may hold for different elements)', () => {
    const c = newCollection().coll;
    c.createIndex(normaliseIndexSpec({ key: { v: 1 }, name: 'v_1' }));
    c.insert({ _id: 1, v: [1, 10] });
    c.insert({ _id: 2, v: [6] });
    c.insert({ _id: 3, v: 20 });
    expect(
      c
        .find({ v: { $gt: 5, $lt: 8 } })
        .map((d) => d._id)
        .sort(),
    ).toEqual([1, 2]);
    expect(c.find({ v: { $elemMatch: { $gt: 5, $lt: 8 } } }).map((d) => d._id)).toEqual([2]);
    expect(c.find({ v: 10 }).map((d) => d._id)).toEqual([1]);
  });

  it('applies type bracketing to ranges like mongod', () => {
    const c = newCollection().coll;
    c.createIndex(normaliseIndexSpec({ key: { v: 1 }, name: 'v_1' }));
    c.insert({ _id: 1, v: 5 });
    c.insert({ _id: 2, v: 'x' });
    c.insert({ _id: 3, v: new Date(10) });
    c.insert({ _id: 4 });
    expect(c.find({ v: { $gt: 1 } }).map((d) => d._id)).toEqual([1]);
    expect(c.find({ v: { $lt: new Date(100) } }).map((d) => d._id)).toEqual([3]);
    expect(c.find({ v: null }).map((d) => d._id)).toEqual([4]);
  });
});

describe('Collection unique indexes', () => {
  it('rejects duplicates on insert and replace, and leaves the collection unchanged', () => {
    const { coll, records } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { email: 1 }, name: 'email_1', unique: true }));
    coll.insert({ _id: 1, email: 'a' });
    coll.insert({ _id: 2, email: 'b' });
    expect(() => coll.insert({ _id: 3, email: 'a' })).toThrow(CommandError);
    const old = coll.getById(2)!;
    expect(() => coll.replace(old, { _id: 2, email: 'a' })).toThrow(
      /E11000 duplicate key error collection: db.c index: email_1 dup key: \{ email: "a" \}/,
    );
    expect(coll.getById(2)).toEqual(old);
    expect(coll.find({ email: 'a' }).map((d) => d._id)).toEqual([1]);
    expect(records.filter((r) => (r as { op: string }).op === 'put')).toHaveLength(2);
  });

  it('treats missing fields as null unless the index is sparse or partial', () => {
    const plain = newCollection().coll;
    plain.createIndex(normaliseIndexSpec({ key: { k: 1 }, name: 'k_1', unique: true }));
    plain.insert({ _id: 1 });
    expect(() => plain.insert({ _id: 2 })).toThrow(/dup key: \{ k: null \}/);

    const sparse = newCollection().coll;
    sparse.createIndex(normaliseIndexSpec({ key: { k: 1 }, name: 'k_1', unique: true, sparse: true }));
    sparse.insert({ _id: 1 });
    sparse.insert({ _id: 2 });
    expect(sparse.find({ k: null })).toHaveLength(2);

    const partial = newCollection().coll;
    partial.createIndex(
      normaliseIndexSpec({ key: { k: 1 }, name: 'k_1', unique: true, partialFilterExpression: { active: true } }),
    );
    partial.insert({ _id: 1, k: 1, active: false });
    partial.insert({ _id: 2, k: 1, active: true });
    expect(() => partial.insert({ _id: 3, k: 1, active: true })).toThrow(/E11000/);
  });

  it('checks on replace only the unique indexes whose keys change, and still refuses what they would duplicate', () => {
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { sn: 1 }, name: 'sn_1', unique: true }));
    coll.createIndex(
      normaliseIndexSpec({ key: { k: 1 }, name: 'k_1', unique: true, partialFilterExpression: { active: true } }),
    );
    coll.insert({ _id: 1, sn: 'a', k: 1, active: true, n: 0 });
    coll.insert({ _id: 2, sn: 'b', k: 1, active: false, n: 0 });
    // Keys kept (sn, and k outside the partial filter): the write goes through.
    coll.replace(coll.getById(2)!, { _id: 2, sn: 'b', k: 1, active: false, n: 1 });
    expect(coll.getById(2)).toEqual({ _id: 2, sn: 'b', k: 1, active: false, n: 1 });
    // Same k, but now inside the partial filter: its keys change, and the duplicate is refused.
    const before = coll.getById(2)!;
    expect(() => coll.replace(before, { _id: 2, sn: 'b', k: 1, active: true, n: 2 })).toThrow(
      /E11000 duplicate key error collection: db.c index: k_1 dup key: \{ k: 1 \}/,
    );
    // A changed sn that another document holds is refused too; nothing was written by either attempt.
    expect(() => coll.replace(before, { _id: 2, sn: 'a', k: 1, active: false, n: 3 })).toThrow(/index: sn_1/);
    expect(coll.getById(2)).toEqual(before);
    expect(coll.find({ sn: 'b' }).map((d) => d._id)).toEqual([2]);
    expect(coll.find({ k: 1, active: true }).map((d) => d._id)).toEqual([1]);
  });

  it('refuses to build a unique index over duplicates', () => {
    const { coll } = newCollection();
    coll.insert({ _id: 1, a: 1, b: 1 });
    coll.insert({ _id: 2, a: 1, b: 2 });
    coll.createIndex(normaliseIndexSpec({ key: { a: 1, b: 1 }, name: 'a_1_b_1', unique: true }));
    expect(() => coll.createIndex(normaliseIndexSpec({ key: { a: 1 }, name: 'a_1', unique: true }))).toThrow(
      /Index build failed.*E11000 duplicate key error collection: db.c index: a_1 dup key: \{ a: 1 \}/,
    );
    expect(coll.indexes.map((i) => i.name)).toEqual(['_id_', 'a_1_b_1']);
  });

  it('keeps indexes consistent through updates and deletes', () => {
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { v: 1 }, name: 'v_1', unique: true }));
    for (let i = 0; i < 100; i++) coll.insert({ _id: i, v: i });
    for (let i = 0; i < 100; i += 2) coll.replace(coll.getById(i)!, { _id: i, v: i + 1000 });
    for (let i = 1; i < 100; i += 4) coll.remove(coll.getById(i)!);
    const idx = coll.findIndex('v_1')!;
    expect(idx.entries.size).toBe(coll.size);
    coll.insert({ _id: 'x', v: 1 });
    expect(() => coll.insert({ _id: 'y', v: 1000 })).toThrow(/E11000/);
    expect(coll.find({ v: { $gte: 1000 } })).toHaveLength(50);
  });

  it('re-indexes only the indexes whose keys an update changed, and finds every version through each', () => {
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { sn: 1 }, name: 'sn_1', unique: true }));
    coll.createIndex(normaliseIndexSpec({ key: { at: -1, sn: 1 }, name: 'at_-1_sn_1' }));
    coll.createIndex(normaliseIndexSpec({ key: { ref: 1 }, name: 'ref_1' }));
    coll.createIndex(normaliseIndexSpec({ key: { n: 1 }, name: 'n_1' }));
    const ref = new ObjectId();
    for (let i = 0; i < 50; i++) {
      coll.insert({ _id: i, sn: `s${i}`, at: new Date(1000 + i), ref, n: 1 });
    }
    const writes = (name: string): number => coll.findIndex(name)!.writes;
    const before = { sn: writes('sn_1'), at: writes('at_-1_sn_1'), ref: writes('ref_1'), n: writes('n_1') };
    for (let i = 0; i < 50; i++) {
      const old = coll.getById(i)!;
      // Same sn, an equal Date and ObjectId in new objects, a number turned into a string on odd ids.
      coll.replace(old, {
        ...old,
        at: new Date(5000 + i),
        ref: new ObjectId(ref.toHexString()),
        n: i % 2 ? '1' : 1,
      });
    }
    // Unchanged keys (an equal Date or ObjectId in a new object included) leave their index alone;
    // a changed key is one removal and one insertion.
    expect(writes('sn_1')).toBe(before.sn);
    expect(writes('ref_1')).toBe(before.ref);
    expect(writes('at_-1_sn_1') - before.at).toBe(100);
    expect(writes('n_1') - before.n).toBe(50);
    for (const name of ['sn_1', 'at_-1_sn_1', 'ref_1', 'n_1']) expect(coll.findIndex(name)!.entries.size).toBe(50);
    expect(coll.find({ at: { $gte: new Date(5000) } })).toHaveLength(50);
    expect(coll.find({ at: { $lt: new Date(5000) } })).toHaveLength(0);
    expect(coll.find({ ref })).toHaveLength(50);
    expect(coll.find({ n: 1 })).toHaveLength(25);
    expect(coll.find({ n: '1' })).toHaveLength(25);
    expect(() => coll.insert({ _id: 'x', sn: 's3' })).toThrow(/E11000/);
  });
});

describe('Collection counting and paging from indexes', () => {
  const N = 20_000;
  const base = 1_700_000_000_000;
  let coll: Collection;
  let all: Array<Record<string, unknown>>;

  beforeAll(() => {
    coll = newCollection().coll;
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, time: -1, _id: -1 }, name: 'kind_time' }));
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, sn: 1, time: -1, _id: -1 }, name: 'kind_sn_time' }));
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, sent: 1, time: -1, _id: -1 }, name: 'kind_sent_time' }));
    all = [];
    for (let i = 0; i < N; i++) {
      const doc = {
        _id: new ObjectId(),
        kind: i % 5 === 0 ? 'app' : 'terminal',
        sn: `SN${i % 40}`,
        sent: i % 3 === 0,
        // Several punches share an instant, and a few rows hold a string instead of a date.
        time: i % 997 === 0 ? `text-${i}` : new Date(base + Math.floor(i / 4) * 60_000),
        payload: 'x'.repeat(50),
      };
      all.push(doc);
      coll.insert(doc);
    }
  });

  function measure<T>(fn: () => T): { result: T; examined: number; keys: number } {
    const e = coll.examined;
    const k = coll.keysExamined;
    const result = fn();
    return { result, examined: coll.examined - e, keys: coll.keysExamined - k };
  }

  const isDate = (v: unknown): v is Date => v instanceof Date;
  const from = new Date(base + 1000 * 60_000);
  const to = new Date(base + 3000 * 60_000);

  it('counts an equality prefix plus a date range from index positions, reading nothing', () => {
    const filter = { kind: 'terminal', sn: 'SN7', time: { $gte: from, $lt: to } };
    const want = all.filter(
      (d) => d.kind === 'terminal' && d.sn === 'SN7' && isDate(d.time) && d.time >= from && d.time < to,
    ).length;
    const { result, examined, keys } = measure(() => coll.count(filter));
    expect(want).toBeGreaterThan(0);
    expect(result).toBe(want);
    expect(examined).toBe(0);
    expect(keys).toBe(0);
  });

  it('counts a $and of conditions like the plain conjunction', () => {
    const { result, examined } = measure(() =>
      coll.count({ $and: [{ kind: 'terminal' }, { sent: false }, { time: { $lte: to } }] }),
    );
    const want = all.filter((d) => d.kind === 'terminal' && d.sent === false && isDate(d.time) && d.time <= to);
    expect(result).toBe(want.length);
    expect(examined).toBe(0);
  });

  it('keeps type bracketing: a date bound never counts the rows holding strings', () => {
    const lower = measure(() => coll.count({ kind: 'terminal', time: { $gt: new Date(0) } }));
    const upper = measure(() => coll.count({ kind: 'terminal', time: { $lt: new Date(base * 2) } }));
    const dates = all.filter((d) => d.kind === 'terminal' && isDate(d.time)).length;
    expect(lower.result).toBe(dates);
    expect(upper.result).toBe(dates);
    expect(lower.examined + upper.examined).toBe(0);
    const strings = coll.count({ kind: 'terminal', time: { $gte: '' } });
    expect(strings).toBe(all.filter((d) => d.kind === 'terminal' && typeof d.time === 'string').length);
  });

  it('honours exclusive and inclusive bounds on shared instants', () => {
    const at = new Date(base + 500 * 60_000);
    const inclusive = coll.count({ kind: 'terminal', time: { $gte: at, $lte: at } });
    const exclusive = coll.count({ kind: 'terminal', time: { $gt: at, $lt: new Date(at.getTime() + 60_000) } });
    expect(inclusive).toBe(all.filter((d) => d.kind === 'terminal' && isDate(d.time) && +d.time === +at).length);
    expect(exclusive).toBe(0);
  });

  it('reads only the page of a deep, sorted page and matches a full sort', () => {
    const filter = { kind: 'terminal', sent: true };
    const skip = 2000;
    const limit = 25;
    const { result, examined } = measure(() => coll.findSorted(filter, parseSort({ time: -1, _id: -1 }), skip, limit));
    const reference = coll
      .find({ $expr: { $and: [{ $eq: ['$kind', 'terminal'] }, { $eq: ['$sent', true] }] } })
      .sort((a, b) => compareValues(b.time, a.time) || compareValues(b._id, a._id))
      .slice(skip, skip + limit);
    expect(result.map((d) => String(d._id))).toEqual(reference.map((d) => String(d._id)));
    expect(examined).toBe(limit);
  });

  it('merges several equality values into one sort order, reading only the page', () => {
    const filter = { kind: 'terminal', sent: { $in: [true, false] }, time: { $lt: to } };
    const { result, examined } = measure(() => coll.findSorted(filter, parseSort({ time: -1, _id: -1 }), 40, 20));
    const reference = all
      .filter((d) => d.kind === 'terminal' && isDate(d.time) && d.time < to)
      .sort((a, b) => compareValues(b.time, a.time) || compareValues(b._id, a._id))
      .slice(40, 60);
    expect(result.map((d) => String(d._id))).toEqual(reference.map((d) => String(d._id)));
    expect(examined).toBe(20);
    expect(coll.explain(filter, parseSort({ time: -1, _id: -1 }))).toMatchObject({ sorted: true, exact: true });
    expect(coll.count(filter)).toBe(all.filter((d) => d.kind === 'terminal' && isDate(d.time) && d.time < to).length);
  });

  it('reads only the page past the end of one prefix when the range is open below', () => {
    const { result, examined } = measure(() =>
      coll.findSorted({ kind: 'app', time: { $lt: to } }, parseSort({ time: -1, _id: -1 }), 100, 10),
    );
    expect(result).toHaveLength(10);
    expect(result.every((d) => d.kind === 'app' && isDate(d.time) && d.time < to)).toBe(true);
    expect(examined).toBe(10);
  });

  it('still answers a filter an index cannot answer exactly, reading documents', () => {
    const { result, examined } = measure(() => coll.count({ kind: 'terminal', payload: { $regex: '^x' } }));
    expect(result).toBe(all.filter((d) => d.kind === 'terminal').length);
    expect(examined).toBeGreaterThan(0);
  });

  it('lists the distinct values after an equality prefix by jumping through the index', () => {
    const { result, keys, examined } = measure(() => coll.distinctFromIndex('sn', { kind: 'app' }));
    expect(new Set(result as string[])).toEqual(new Set(all.filter((d) => d.kind === 'app').map((d) => d.sn)));
    expect(examined).toBe(0);
    expect(keys).toBe((result as unknown[]).length);
    expect(coll.distinctFromIndex('payload', {})).toBeUndefined();
  });

  it('keeps documents as bytes and reports a memory estimate without visiting them', () => {
    expect(coll.size).toBe(N);
    expect(coll.storageBytes).toBeGreaterThan(N * 100);
    expect(coll.approximateMemoryBytes()).toBeGreaterThan(coll.storageBytes);
    const d = coll.getById(all[5]._id)!;
    d.kind = 'changed';
    expect(coll.getById(all[5]._id)!.kind).toBe(all[5].kind);
  });
});

describe('Collection indexes with mixed directions', () => {
  const { coll } = newCollection();
  const all: Array<Record<string, unknown>> = [];
  beforeAll(() => {
    coll.createIndex(normaliseIndexSpec({ key: { seen: -1, sn: 1 }, name: 'seen_-1_sn_1' }));
    for (let i = 0; i < 3000; i++) {
      const doc = {
        _id: i,
        sn: `S${String(i).padStart(5, '0')}`,
        seen: i % 7 === 0 ? null : new Date(1e12 + (i % 500) * 1000),
      };
      all.push(doc);
      coll.insert(doc);
    }
  });

  const ref = (dirSeen: number, dirSn: number) =>
    [...all].sort((a, b) => dirSeen * compareValues(a.seen, b.seen) || dirSn * compareValues(a.sn, b.sn));

  it('serves a sort that follows the index directions, or inverts all of them, reading only the page', () => {
    for (const [seen, sn] of [
      [-1, 1],
      [1, -1],
    ]) {
      const before = coll.examined;
      const page = coll.findSorted({}, parseSort({ seen, sn }), 300, 10);
      expect(coll.examined - before).toBe(10);
      expect(page.map((d) => d._id)).toEqual(
        ref(seen, sn)
          .slice(300, 310)
          .map((d) => d._id),
      );
    }
    expect(coll.explain({}, parseSort({ seen: -1, sn: -1 })).stage).toBe('COLLSCAN');
  });

  it('counts and reads a range on a descending field', () => {
    const lo = new Date(1e12 + 100_000);
    const hi = new Date(1e12 + 200_000);
    const filter = { seen: { $gt: lo, $lte: hi } };
    const want = all.filter((d) => d.seen instanceof Date && d.seen > lo && d.seen <= hi);
    const before = coll.examined;
    expect(coll.count(filter)).toBe(want.length);
    expect(coll.count({ seen: { $gte: lo } })).toBe(all.filter((d) => d.seen instanceof Date && d.seen >= lo).length);
    expect(coll.examined).toBe(before);
    const page = coll.findSorted(filter, parseSort({ seen: -1, sn: 1 }), 0, 5);
    expect(page.map((d) => d._id)).toEqual(
      ref(-1, 1)
        .filter((d) => want.includes(d))
        .slice(0, 5)
        .map((d) => d._id),
    );
  });
});

describe('Collection storage: record numbers, key columns and recovery', () => {
  const specs = [
    { key: { kind: 1, at: -1, _id: -1 }, name: 'kind_1_at_-1__id_-1' },
    { key: { v: 1, s: -1 }, name: 'v_1_s_-1' },
    { key: { flag: 1, n: 1 }, name: 'flag_1_n_1' },
    { key: { tags: 1 }, name: 'tags_1' },
    { key: { 'sub.x': 1 }, name: 'sub.x_1' },
    { key: { u: 1 }, name: 'u_1', unique: true },
  ];
  const mixed = [null, undefined, 3, -1, 'a', 'B', true, new Date(5), new ObjectId('650000000000000000000001'), 2.5];

  function doc(i: number): Record<string, unknown> {
    const d: Record<string, unknown> = {
      _id: i % 3 === 0 ? new ObjectId(i.toString(16).padStart(24, '0')) : i % 3 === 1 ? `id${i}` : i,
      kind: i % 4 === 0 ? 'app' : 'terminal',
      at: new Date(1_700_000_000_000 + ((i * 7919) % 1000) * 1000),
      v: mixed[i % mixed.length],
      s: `s${i % 17}`,
      n: i % 11,
      u: `u${i}`,
      sub: { x: i % 5 },
    };
    if (i % 6 !== 0) d.flag = i % 2 === 0;
    if (i % 50 === 7) d.tags = ['x', `t${i % 3}`];
    return d;
  }

  it('builds the same index order by sorting at load as by inserting one document at a time', () => {
    const { coll: inserted } = newCollection();
    for (const s of specs) inserted.createIndex(normaliseIndexSpec(s));
    const n = 600;
    for (let i = 0; i < n; i++) inserted.insert(doc(i));
    // The same documents loaded as recovery does: bytes appended, indexes declared, then built.
    const store = new Store();
    store.beginBulk();
    for (let i = 0; i < n; i++) store.applyPut('db', 'c', encodeDoc(doc(i)));
    store.endBulk();
    const loaded = store.getCollection('db', 'c')!;
    for (const s of specs) loaded.declareIndex(normaliseIndexSpec(s));
    store.rebuildIndexes();
    for (const s of specs) {
      const a = [...inserted.findIndex(s.name)!.entries].map((e) => [e.k, inserted.records.get(e.id)]);
      const b = [...loaded.findIndex(s.name)!.entries].map((e) => [e.k, loaded.records.get(e.id)]);
      expect(b).toEqual(a);
    }
    expect(loaded.findIndex('tags_1')!.multikey).toBe(true);
    expect(loaded.findIndex('tags_1')!.columnar).toBe(false);
    expect(loaded.findIndex('kind_1_at_-1__id_-1')!.columnar).toBe(true);
    expect(loaded.count({ tags: 'x' })).toBe(inserted.count({ tags: 'x' }));
    expect(loaded.findSorted({ kind: 'app' }, parseSort({ at: -1, _id: -1 }), 5, 10)).toEqual(
      inserted.findSorted({ kind: 'app' }, parseSort({ at: -1, _id: -1 }), 5, 10),
    );
  });

  it('turns a column index into one with its own keys when a document brings an array', () => {
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { a: 1, b: -1 }, name: 'a_1_b_-1' }));
    for (let i = 0; i < 50; i++) coll.insert({ _id: i, a: i % 5, b: i });
    const idx = coll.findIndex('a_1_b_-1')!;
    expect(idx.columnar).toBe(true);
    coll.insert({ _id: 'arr', a: [1, 2], b: 100 });
    expect(idx.columnar).toBe(false);
    expect(idx.multikey).toBe(true);
    expect(coll.find({ a: 2 }).map((d) => d._id)).toEqual(expect.arrayContaining(['arr', 2, 7]));
    expect(coll.count({ a: 1 })).toBe(11);
    coll.replace(coll.getById('arr')!, { _id: 'arr', a: 3, b: 100 });
    expect(coll.count({ a: 1 })).toBe(10);
    expect(coll.count({ a: 3 })).toBe(11);
    coll.remove(coll.getById(3)!);
    expect(coll.count({ a: 3 })).toBe(10);
    expect(idx.entries.size).toBe(coll.size);
  });

  it('keeps an index over empty arrays in its columns (one null key each), multikey, at insert and at load', () => {
    const docs = [{ _id: 1, deps: [] }, { _id: 2, deps: null }, { _id: 3 }, { _id: 4, deps: [] }, { _id: 5, deps: 7 }];
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { deps: 1 }, name: 'deps_1' }));
    for (const d of docs) coll.insert(d);
    const store = new Store();
    store.beginBulk();
    for (const d of docs) store.applyPut('db', 'c', encodeDoc(d));
    store.endBulk();
    const loaded = store.getCollection('db', 'c')!;
    loaded.declareIndex(normaliseIndexSpec({ key: { deps: 1 }, name: 'deps_1' }));
    store.rebuildIndexes();
    for (const c of [coll, loaded]) {
      const idx = c.findIndex('deps_1')!;
      expect(idx.columnar).toBe(true);
      expect(idx.multikey).toBe(true);
      expect([...idx.entries].map((e) => e.k)).toEqual([[null], [null], [null], [null], [7]]);
      expect(c.find({ deps: null }).map((d) => d._id)).toEqual([2, 3]);
      expect(c.find({ deps: { $size: 0 } }).map((d) => d._id)).toEqual([1, 4]);
      expect(c.count({ deps: 7 })).toBe(1);
    }
    coll.insert({ _id: 6, deps: ['x', 'y'] });
    expect(coll.findIndex('deps_1')!.columnar).toBe(false);
    expect(coll.find({ deps: 'y' }).map((d) => d._id)).toEqual([6]);
    expect(coll.find({ deps: null }).map((d) => d._id)).toEqual([2, 3]);
  });

  it('recovers a snapshot and the journal after it: replaced, removed and repeated documents', () => {
    const store = new Store();
    store.beginBulk();
    for (let i = 0; i < 100; i++) store.applyPut('db', 'c', encodeDoc({ _id: i, k: i % 10 }));
    // A damaged snapshot holding one _id twice: the later copy wins.
    store.applyPut('db', 'c', encodeDoc({ _id: 5, k: 55 }));
    store.endBulk();
    store.apply({ op: 'createIndex', db: 'db', c: 'c', spec: { v: 2, key: { k: 1 }, name: 'k_1' } });
    store.applyPut('db', 'c', encodeDoc({ _id: 7, k: 77 }));
    store.applyPut('db', 'c', encodeDoc({ _id: 'new', k: 1 }));
    store.apply({ op: 'del', db: 'db', c: 'c', id: 8 });
    store.apply({ op: 'del', db: 'db', c: 'c', id: 'never stored' });
    store.rebuildIndexes();
    const c = store.getCollection('db', 'c')!;
    expect(c.size).toBe(100);
    expect(c.getById(5)).toEqual({ _id: 5, k: 55 });
    expect(c.getById(7)).toEqual({ _id: 7, k: 77 });
    expect(c.getById(8)).toBeUndefined();
    expect(c.find({ k: 1 }).map((d) => d._id)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 'new']);
    expect(c.count({ k: 8 })).toBe(9);
    expect(c.findIndex('k_1')!.entries.size).toBe(100);
    expect(c.idIndex.entries.size).toBe(100);
    // After recovery the collection takes ordinary writes.
    c.insert({ _id: 200, k: 1 });
    expect(() => c.insert({ _id: 5 })).toThrow(/E11000/);
  });

  it('holds a column index entry in a few bytes: the estimate counts record numbers, not key objects', () => {
    const { coll } = newCollection();
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, at: -1, _id: -1 }, name: 'k' }));
    coll.createIndex(normaliseIndexSpec({ key: { tags: 1 }, name: 'tags_1' }));
    for (let i = 0; i < 1000; i++) coll.insert({ _id: i, kind: 'terminal', at: new Date(i), tags: [i % 3] });
    const est = coll.approximateMemoryBytes();
    expect(est).toBeGreaterThan(coll.storageBytes);
    // BSON bytes + location + three columns + two column indexes + one keyed (multikey) index.
    expect(est).toBeLessThan(coll.storageBytes + 1000 * 200 + 1024 * 1024);
  });
});

describe('Collection planning between indexes that serve a filter equally', () => {
  const { coll } = newCollection();
  const all: Array<Record<string, unknown>> = [];
  beforeAll(() => {
    // Declared first: the terminal index, whose prefix holds a quarter of the rows.
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, sn: 1, time: -1, _id: -1 }, name: 'kind_sn_time' }));
    coll.createIndex(normaliseIndexSpec({ key: { kind: 1, user: 1, time: -1, _id: -1 }, name: 'kind_user_time' }));
    for (let i = 0; i < 8000; i++) {
      const doc = { _id: i, kind: 'terminal', sn: `SN${i % 4}`, user: `u${i % 400}`, time: new Date(1e12 + i * 1000) };
      all.push(doc);
      coll.insert(doc);
    }
  });

  it('walks the index whose equality prefix holds fewer entries, and still answers exactly', () => {
    const filter = { kind: 'terminal', sn: 'SN1', user: 'u5' };
    const sort = parseSort({ time: -1, _id: -1 });
    expect(coll.explain(filter, sort)).toMatchObject({ index: 'kind_user_time', sorted: true });
    const want = all.filter((d) => d.sn === 'SN1' && d.user === 'u5');
    const before = coll.examined;
    expect(coll.count(filter)).toBe(want.length);
    const page = coll.findSorted(filter, sort, 0, 5);
    // Only the person's 20 rows are read (for the count), then the page: never the terminal's 2,000.
    expect(coll.examined - before).toBeLessThanOrEqual(20 + 5);
    expect(page.map((d) => d._id)).toEqual(
      want
        .map((d) => d._id as number)
        .sort((a, b) => b - a)
        .slice(0, 5),
    );
  });

  it('counts a few equality values per prefix, and keeps the declared order past that', () => {
    const sort = parseSort({ time: -1, _id: -1 });
    const few = { kind: 'terminal', sn: 'SN1', user: { $in: ['u1', 'u5', 'u9', 'u13'] } };
    expect(coll.explain(few, sort).index).toBe('kind_user_time');
    const many = { kind: 'terminal', sn: 'SN1', user: { $in: Array.from({ length: 40 }, (_, i) => `u${i}`) } };
    expect(coll.explain(many, sort).index).toBe('kind_sn_time');
    expect(coll.count(many)).toBe(all.filter((d) => d.sn === 'SN1' && Number(String(d.user).slice(1)) < 40).length);
    expect(coll.explain({ kind: 'terminal', sn: 'SN1' }, sort).index).toBe('kind_sn_time');
  });
});
