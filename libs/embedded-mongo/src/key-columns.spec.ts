import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, serialize } from 'bson';
import { Column, rankColumn } from './key-columns';
import { NameTable, visitTop } from './raw-doc';
import { compareValues } from './values';

/** One of each BSON type a key may hold, with neighbours and ties inside the common types. */
function mixedValues(): unknown[] {
  return [
    undefined,
    null,
    -Infinity,
    -1.5,
    -0,
    0,
    1,
    1,
    2 ** 40,
    NaN,
    '',
    'A',
    'a',
    'a',
    'ab',
    'é',
    new ObjectId('000000000000000000000000'),
    new ObjectId('650000000000000000000001'),
    new ObjectId('650000000000000000000001'),
    new ObjectId('ffffffffffffffffffffffff'),
    false,
    true,
    new Date(-1000),
    new Date(0),
    new Date(1_700_000_000_000),
    new Date(NaN),
    { a: 1 },
    [1, 2],
    [],
    Long.fromString('9007199254740993'),
    Decimal128.fromString('1.5'),
    new Binary(Buffer.from('xy')),
    new MinKey(),
    new MaxKey(),
  ];
}

/** The key a column should answer for a value (a missing field and an empty array index as null). */
const keyOf = (v: unknown): unknown => (v === undefined || (Array.isArray(v) && v.length === 0) ? null : v);

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function fillColumn(values: unknown[]): Column {
  const col = new Column(values.length);
  values.forEach((v, r) => col.set(r, v));
  return col;
}

describe('key columns', () => {
  it('orders every pair of values exactly as compareValues does, stored and probed', () => {
    const values = mixedValues();
    const col = fillColumn(values);
    const wrong: string[] = [];
    for (let a = 0; a < values.length; a++) {
      for (let b = 0; b < values.length; b++) {
        const want = sign(compareValues(keyOf(values[a]), keyOf(values[b])));
        if (sign(col.compare(a, b)) !== want) wrong.push(`compare ${a} ${b}`);
        if (sign(col.compareTo(a, keyOf(values[b]))) !== want) wrong.push(`compareTo ${a} ${b}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives back what was stored (fresh Date and ObjectId objects), and tells a change of type apart', () => {
    const values = mixedValues();
    const col = fillColumn(values);
    values.forEach((v, r) => {
      const got = col.get(r);
      if (typeof v === 'number' && Number.isNaN(v)) expect(got).toBeNaN();
      else expect(compareValues(got, v)).toBe(0);
      if (v instanceof Date) expect(got).not.toBe(v);
    });
    const oid = new ObjectId();
    col.set(0, oid);
    expect(col.same(0, new ObjectId(oid.toHexString()))).toBe(true);
    col.set(1, 1);
    expect(col.same(1, '1')).toBe(false);
    expect(col.same(1, 1)).toBe(true);
    col.set(2, new Date(5));
    expect(col.same(2, new Date(5))).toBe(true);
    expect(col.same(2, 5)).toBe(false);
    // Values kept as they are always count as changed (the caller re-indexes).
    col.set(3, { a: 1 });
    expect(col.same(3, { a: 1 })).toBe(false);
    expect(col.holdsArray(27)).toBe(true);
    expect(col.holdsArray(26)).toBe(false);
  });

  it('ranks values in compareValues order, equal values sharing a rank', () => {
    const simple = [
      null,
      undefined,
      3,
      -2,
      NaN,
      3,
      'b',
      'a',
      'b',
      new ObjectId('650000000000000000000002'),
      new ObjectId('650000000000000000000001'),
      true,
      false,
      new Date(10),
      new Date(NaN),
      new Date(10),
    ];
    for (const values of [simple, mixedValues()]) {
      const col = fillColumn(values);
      const live = Uint32Array.from(values.keys());
      const { ranks, max } = rankColumn(col, live, values.length);
      const wrong: string[] = [];
      for (let a = 0; a < values.length; a++) {
        for (let b = 0; b < values.length; b++) {
          const want = sign(compareValues(keyOf(values[a]), keyOf(values[b])));
          if (sign(ranks[a] - ranks[b]) !== want) wrong.push(`${a} ${b}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(max).toBe(Math.max(...ranks));
    }
  });

  it('ranks a column of many distinct strings (sorted records, no map) in string order', () => {
    const n = 70_000;
    const values = Array.from({ length: n + 10 }, (_, i) => (i < n ? `k${(i * 7919) % n}` : `k${i % 5}`));
    const col = fillColumn(values);
    const { ranks, max } = rankColumn(col, Uint32Array.from(values.keys()), values.length);
    const order = [...values.keys()].sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
    let wrong = 0;
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1], order[i]];
      if (sign(ranks[b] - ranks[a]) !== (values[a] === values[b] ? 0 : 1)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(max).toBe(n - 1);
  });

  it('reads values straight from BSON bytes the same as from decoded documents', () => {
    const doc = {
      _id: new ObjectId(),
      d: 1.25,
      i: 7,
      l: Long.fromNumber(2 ** 40),
      s: 'snü',
      t: true,
      at: new Date(-123456789),
      n: null,
      o: { x: [1, 'a'] },
      arr: ['b', 2],
      other: 'not wanted',
    };
    const names = ['_id', 'd', 'i', 'l', 's', 't', 'at', 'n', 'o', 'arr', 'missing'];
    const buf = Buffer.from(serialize(doc));
    const fromBytes = names.map(() => new Column(1));
    visitTop(buf, new NameTable(names), (i, t, off) => fromBytes[i].setBson(0, buf, t, off));
    names.forEach((name, i) => {
      const want = (doc as Record<string, unknown>)[name];
      const decoded = name === 'l' ? 2 ** 40 : want;
      expect(compareValues(fromBytes[i].get(0) ?? null, decoded ?? null)).toBe(0);
    });
    expect(fromBytes[names.indexOf('arr')].holdsArray(0)).toBe(true);
    expect(fromBytes[names.indexOf('missing')].get(0)).toBeUndefined();
  });
});
