import { RecordStore, SLAB_BYTES } from './record-store';

function bytes(n: number, fill: number): Buffer {
  return Buffer.alloc(n, fill);
}

describe('RecordStore', () => {
  it('stores, replaces and removes records, walking the live ones in insertion order', () => {
    const s = new RecordStore();
    const a = s.add(bytes(10, 1));
    const b = s.add(bytes(20, 2));
    const c = s.add(bytes(30, 3));
    expect([a, b, c]).toEqual([0, 1, 2]);
    s.set(b, bytes(5, 9));
    expect(s.delete(a)).toBe(true);
    expect(s.delete(a)).toBe(false);
    expect(s.get(a)).toBeUndefined();
    expect(s.get(b)).toEqual(bytes(5, 9));
    expect(s.get(c)).toEqual(bytes(30, 3));
    expect([...s.records()]).toEqual([b, c]);
    expect(s.size).toBe(2);
    expect(s.dataBytes).toBe(35);
    // Numbers are not reused: a new record comes after every earlier one.
    expect(s.add(bytes(1, 4))).toBe(3);
    expect(() => s.set(a, bytes(1, 1))).toThrow(/not stored/);
  });

  it('never changes bytes a reader holds, and a frozen view keeps the records as they were', () => {
    const s = new RecordStore();
    const ids = Array.from({ length: 100 }, (_, i) => s.add(bytes(100, i)));
    const held = s.get(ids[7])!;
    const frozen = s.freeze();
    for (const r of ids) s.set(r, bytes(50, 200));
    s.delete(ids[8]);
    expect(held).toEqual(bytes(100, 7));
    expect(frozen.size).toBe(100);
    expect(frozen.get(ids[7])).toEqual(bytes(100, 7));
    expect(frozen.get(ids[8])).toEqual(bytes(100, 8));
    expect(frozen.get(1000)).toBeUndefined();
    expect(s.get(ids[7])).toEqual(bytes(50, 200));
  });

  it('empties mostly dead slabs into the current one and drops them, keeping every record readable', () => {
    const s = new RecordStore();
    const size = 1000;
    const n = Math.ceil((3 * SLAB_BYTES) / size);
    const ids = Array.from({ length: n }, (_, i) => s.add(bytes(size, i % 251)));
    const slabsBefore = s.slabBytes;
    // Remove four of every five records of the first slabs: they drop under a quarter live.
    for (let i = 0; i < n; i++) if (i % 5 !== 0 && i < (2 * n) / 3) s.delete(ids[i]);
    expect(s.reclaimed).toBeGreaterThanOrEqual(1);
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const got = s.get(ids[i]);
      const removed = i % 5 !== 0 && i < (2 * n) / 3;
      if (removed ? got !== undefined : !got?.equals(bytes(size, i % 251))) wrong++;
    }
    expect(wrong).toBe(0);
    expect(s.slabBytes).toBeLessThan(slabsBefore);
    expect(s.dataBytes).toBe(s.size * size);
  });

  it('gives a document larger than a quarter slab a slab of its own, freed when it is replaced', () => {
    const s = new RecordStore();
    const small = s.add(bytes(10, 1));
    const big = s.add(bytes(SLAB_BYTES + 5, 2));
    expect(s.get(big)!.length).toBe(SLAB_BYTES + 5);
    const held = s.slabBytes;
    s.set(big, bytes(10, 3));
    expect(s.slabBytes).toBe(held - (SLAB_BYTES + 5));
    expect(s.get(small)).toEqual(bytes(10, 1));
    expect(s.get(big)).toEqual(bytes(10, 3));
  });
});
