/**
 * A sorted list of record numbers in bounded chunks of 32-bit integers: what a column index holds
 * (see key-columns.ts). A chunk is a Uint32Array filled up to its length in `lens`, so an entry
 * costs four bytes where a JavaScript array of numbers costs eight; an insert or delete moves at
 * most one chunk. Positions are the same (chunk, offset) cursors as SortedList's.
 */
import type { Cursor } from './sorted-list';

const MAX_CHUNK = 1024;
const LOAD_CHUNK = 512;

export class RecordList {
  private chunks: Uint32Array[] = [];
  private lens: number[] = [];
  private count = 0;

  constructor(private readonly cmp: (a: number, b: number) => number) {}

  get size(): number {
    return this.count;
  }

  get end(): Cursor {
    return { c: this.chunks.length, i: 0 };
  }

  /** First position whose record satisfies `!before(record)`, for a monotone `before`. */
  search(before: (r: number) => boolean): Cursor {
    const { chunks, lens } = this;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(chunks[mid][lens[mid] - 1])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return this.end;
    const ch = chunks[lo];
    let a = 0;
    let b = lens[lo];
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (before(ch[mid])) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  insert(r: number): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push(Uint32Array.of(r));
      this.lens.push(1);
      return;
    }
    let { c, i } = this.search((x) => this.cmp(x, r) < 0);
    if (c === this.chunks.length) {
      c--;
      i = this.lens[c];
    }
    let ch = this.chunks[c];
    const len = this.lens[c];
    if (len === ch.length) {
      const grown = new Uint32Array(Math.min(Math.max(8, len * 2), MAX_CHUNK + 1));
      grown.set(ch);
      ch = grown;
      this.chunks[c] = ch;
    }
    ch.copyWithin(i + 1, i, len);
    ch[i] = r;
    this.lens[c] = len + 1;
    if (len + 1 > MAX_CHUNK) {
      const half = (len + 1) >>> 1;
      this.chunks.splice(c + 1, 0, ch.slice(half, len + 1));
      this.lens.splice(c + 1, 0, len + 1 - half);
      this.chunks[c] = ch.slice(0, half);
      this.lens[c] = half;
    }
  }

  /** Removes record `r` (found by the comparator, so while its key is what it was added with). */
  delete(r: number): boolean {
    const { c, i } = this.search((x) => this.cmp(x, r) < 0);
    if (c === this.chunks.length || i >= this.lens[c] || this.chunks[c][i] !== r) return false;
    const ch = this.chunks[c];
    const len = this.lens[c];
    ch.copyWithin(i, i + 1, len);
    if (len === 1) {
      this.chunks.splice(c, 1);
      this.lens.splice(c, 1);
    } else this.lens[c] = len - 1;
    this.count--;
    return true;
  }

  /** Replaces the content with records already in order. */
  load(sorted: ArrayLike<number>): void {
    this.chunks = [];
    this.lens = [];
    for (let i = 0; i < sorted.length; i += LOAD_CHUNK) {
      const n = Math.min(LOAD_CHUNK, sorted.length - i);
      const ch = new Uint32Array(n);
      for (let k = 0; k < n; k++) ch[k] = sorted[i + k];
      this.chunks.push(ch);
      this.lens.push(n);
    }
    this.count = sorted.length;
  }

  at(pos: Cursor): number | undefined {
    const ch = this.chunks[pos.c];
    return ch && pos.i < this.lens[pos.c] ? ch[pos.i] : undefined;
  }

  /** Number of records in [from, to): a sum over chunk lengths. */
  countBetween(from: Cursor, to: Cursor): number {
    if (to.c < from.c || (to.c === from.c && to.i <= from.i)) return 0;
    if (from.c === to.c) return to.i - from.i;
    let n = (this.lens[from.c] ?? 0) - from.i;
    for (let c = from.c + 1; c < to.c && c < this.chunks.length; c++) n += this.lens[c];
    return n + to.i;
  }

  advance(from: Cursor, n: number): Cursor {
    let c = from.c;
    let i = from.i + n;
    while (c < this.chunks.length && i >= this.lens[c]) {
      i -= this.lens[c];
      c++;
    }
    return c >= this.chunks.length ? this.end : { c, i };
  }

  retreat(to: Cursor, n: number): Cursor {
    let c = to.c;
    let i = to.i - n;
    while (i < 0 && c > 0) {
      c--;
      i += this.lens[c];
    }
    return i < 0 ? { c: 0, i: 0 } : { c, i };
  }

  *range(from: Cursor, to: Cursor, reverse = false): Generator<number> {
    const { chunks, lens } = this;
    if (!reverse) {
      let c = from.c;
      let i = from.i;
      while (c < to.c || (c === to.c && i < to.i)) {
        if (c >= chunks.length) return;
        if (i >= lens[c]) {
          c++;
          i = 0;
          continue;
        }
        yield chunks[c][i++];
      }
      return;
    }
    let c = to.c;
    let i = to.i - 1;
    for (;;) {
      if (i < 0) {
        c--;
        if (c < 0) return;
        i = lens[c] - 1;
        continue;
      }
      if (c < from.c || (c === from.c && i < from.i)) return;
      if (c < chunks.length && i < lens[c]) yield chunks[c][i];
      i--;
    }
  }

  *[Symbol.iterator](): Generator<number> {
    for (let c = 0; c < this.chunks.length; c++) {
      const ch = this.chunks[c];
      const n = this.lens[c];
      for (let i = 0; i < n; i++) yield ch[i];
    }
  }
}
