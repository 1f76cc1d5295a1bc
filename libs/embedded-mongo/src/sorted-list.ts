/**
 * A sorted list kept as a list of bounded chunks, so an insert or delete moves at most one chunk
 * (a flat array would move half the index on every insert). Positions are (chunk, offset) cursors.
 */
export interface Cursor {
  c: number;
  i: number;
}

const MAX_CHUNK = 1024;
const LOAD_CHUNK = 512;

export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  get end(): Cursor {
    return { c: this.chunks.length, i: 0 };
  }

  /** First position whose element satisfies `!before(element)`, for a monotone `before`. */
  search(before: (x: T) => boolean): Cursor {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ch = chunks[mid];
      if (before(ch[ch.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return this.end;
    const ch = chunks[lo];
    let a = 0;
    let b = ch.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (before(ch[mid])) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  insert(x: T): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([x]);
      return;
    }
    let pos = this.search((y) => this.cmp(y, x) < 0);
    if (pos.c === this.chunks.length) pos = { c: pos.c - 1, i: this.chunks[pos.c - 1].length };
    const ch = this.chunks[pos.c];
    if (pos.i === ch.length) ch.push(x);
    else ch.splice(pos.i, 0, x);
    if (ch.length > MAX_CHUNK) this.chunks.splice(pos.c + 1, 0, ch.splice(ch.length >>> 1));
  }

  /** Removes the element equal (by the comparator) to `x`; returns whether one was found. */
  delete(x: T): boolean {
    const pos = this.search((y) => this.cmp(y, x) < 0);
    if (pos.c === this.chunks.length) return false;
    const ch = this.chunks[pos.c];
    if (this.cmp(ch[pos.i], x) !== 0) return false;
    ch.splice(pos.i, 1);
    if (ch.length === 0) this.chunks.splice(pos.c, 1);
    this.count--;
    return true;
  }

  /** Replaces the content with already sorted elements (an array or a typed array). */
  load(sorted: ArrayLike<T>): void {
    this.chunks = [];
    for (let i = 0; i < sorted.length; i += LOAD_CHUNK) {
      const n = Math.min(LOAD_CHUNK, sorted.length - i);
      const ch = new Array<T>(n);
      for (let k = 0; k < n; k++) ch[k] = sorted[i + k];
      this.chunks.push(ch);
    }
    this.count = sorted.length;
  }

  /** The element at a position (undefined at the end). */
  at(pos: Cursor): T | undefined {
    const ch = this.chunks[pos.c];
    return ch ? ch[pos.i] : undefined;
  }

  /** Number of elements in [from, to): a sum over chunk lengths, no element is visited. */
  countBetween(from: Cursor, to: Cursor): number {
    if (to.c < from.c || (to.c === from.c && to.i <= from.i)) return 0;
    if (from.c === to.c) return to.i - from.i;
    let n = (this.chunks[from.c]?.length ?? 0) - from.i;
    for (let c = from.c + 1; c < to.c && c < this.chunks.length; c++) n += this.chunks[c].length;
    return n + to.i;
  }

  /** The position `n` elements after `from` (or the end), skipping whole chunks at a time. */
  advance(from: Cursor, n: number): Cursor {
    let c = from.c;
    let i = from.i + n;
    while (c < this.chunks.length && i >= this.chunks[c].length) {
      i -= this.chunks[c].length;
      c++;
    }
    return c >= this.chunks.length ? this.end : { c, i };
  }

  /** The position `n` elements before `to` (or the start). */
  retreat(to: Cursor, n: number): Cursor {
    let c = to.c;
    let i = to.i - n;
    while (i < 0 && c > 0) {
      c--;
      i += this.chunks[c].length;
    }
    return i < 0 ? { c: 0, i: 0 } : { c, i };
  }

  /** Elements in [from, to), forwards or backwards. */
  *range(from: Cursor, to: Cursor, reverse = false): Generator<T> {
    const chunks = this.chunks;
    if (!reverse) {
      let c = from.c;
      let i = from.i;
      while (c < to.c || (c === to.c && i < to.i)) {
        const ch = chunks[c];
        if (!ch) return;
        if (i >= ch.length) {
          c++;
          i = 0;
          continue;
        }
        yield ch[i++];
      }
      return;
    }
    let c = to.c;
    let i = to.i - 1;
    for (;;) {
      if (i < 0) {
        c--;
        if (c < 0) return;
        i = chunks[c].length - 1;
        continue;
      }
      if (c < from.c || (c === from.c && i < from.i)) return;
      const ch = chunks[c];
      if (ch && i < ch.length) yield ch[i];
      i--;
    }
  }

  *[Symbol.iterator](): Generator<T> {
    for (const ch of this.chunks) yield* ch;
  }
}
