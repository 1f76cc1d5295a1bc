import { RecordList } from './record-list';

/** Deterministic pseudo-random numbers (a test that fails can be replayed). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('RecordList', () => {
  // Records ordered by a key (many ties), then by record number, as a column index orders them.
  const key = (r: number): number => (r * 7919) % 97;
  const cmp = (a: number, b: number): number => key(a) - key(b) || a - b;

  it('matches a sorted array through loads, inserts and deletes across chunk splits', () => {
    const rnd = lcg(42);
    const list = new RecordList(cmp);
    const initial = Array.from({ length: 3000 }, (_, i) => i * 2).sort(cmp);
    list.load(Uint32Array.from(initial));
    const model = initial.slice();
    let next = 1;
    for (let step = 0; step < 6000; step++) {
      if (rnd() < 0.6) {
        const r = next;
        next += 2;
        list.insert(r);
        model.push(r);
        model.sort(cmp);
      } else if (model.length > 0) {
        const r = model[Math.floor(rnd() * model.length)];
        expect(list.delete(r)).toBe(true);
        model.splice(model.indexOf(r), 1);
      }
    }
    expect(list.delete(-5 >>> 0)).toBe(false);
    expect(list.size).toBe(model.length);
    expect([...list]).toEqual(model);
  });

  it('counts, skips and walks ranges both ways by position', () => {
    const list = new RecordList(cmp);
    const all = Array.from({ length: 5000 }, (_, i) => i).sort(cmp);
    list.load(all);
    for (let i = 0; i < 300; i++) list.insert(10_000 + i);
    const model = [...all, ...Array.from({ length: 300 }, (_, i) => 10_000 + i)].sort(cmp);
    const from = list.search((r) => key(r) < 10);
    const to = list.search((r) => key(r) < 20);
    const want = model.filter((r) => key(r) >= 10 && key(r) < 20);
    expect(list.countBetween(from, to)).toBe(want.length);
    expect([...list.range(from, to)]).toEqual(want);
    expect([...list.range(from, to, true)]).toEqual([...want].reverse());
    expect(list.at(list.advance(from, 25))).toBe(want[25]);
    expect(list.at(list.retreat(to, 1))).toBe(want[want.length - 1]);
    expect(list.at(list.end)).toBeUndefined();
    expect(list.countBetween(to, from)).toBe(0);
  });
});
