/**
 * Index key values kept by column: one column per indexed top-level field, one slot per record
 * number. Every index over that field reads the same column, so a field indexed five times holds its
 * values once, and an index entry is only a record number. Common key types are held unboxed:
 * numbers, dates and booleans as doubles, ObjectIds as their 12 bytes, strings as (interned) string
 * references; anything else (arrays, documents, other BSON types) is kept as the value itself and
 * compared with `compareValues`.
 */
import { ObjectId } from 'bson';
import { decodeElement, intern } from './raw-doc';
import { compareValues, typeRank } from './values';

const T_MISSING = 0;
const T_NULL = 1;
const T_NUM = 2;
const T_STR = 3;
/** `false`; `true` is T_TRUE (booleans are held in the tag alone). */
const T_BOOL = 4;
const T_DATE = 5;
const T_OID = 6;
const T_OTHER = 7;

const T_TRUE = 8;
/** An empty array: indexed as null (the index is multikey, yet one key per document). */
const T_EMPTY = 9;
const TAGS = 10;

/** MongoDB comparison rank of each unboxed tag (T_OTHER asks the value; true sorts after false). */
const RANK = [1, 1, 2, 3, 8, 9, 7, -1, 8.5, 1];

function cmpNum(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  // NaN sorts first, as `compareValues` does.
  const an = a !== a;
  const bn = b !== b;
  return an && bn ? 0 : an ? -1 : 1;
}

function tagOf(v: unknown): number {
  if (v === undefined) return T_MISSING;
  if (v === null) return T_NULL;
  switch (typeof v) {
    case 'number':
      return T_NUM;
    case 'string':
      return T_STR;
    case 'boolean':
      return v ? T_TRUE : T_BOOL;
    case 'object':
      if (v instanceof Date) return T_DATE;
      if ((v as { _bsontype?: string })._bsontype === 'ObjectId') return T_OID;
      if (Array.isArray(v) && v.length === 0) return T_EMPTY;
      return T_OTHER;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  return T_OTHER;
}

const REF_CHUNK_BITS = 16;
/** Beyond this many distinct strings a column is ranked by sorting its records instead of a map. */
const MAX_MAPPED_STRINGS = 1 << 16;
const REF_CHUNK = 1 << REF_CHUNK_BITS;

/**
 * References by record number in arrays of 65,536 slots: growing adds arrays instead of copying
 * one large array (copying a million slots holds the event loop for tens of milliseconds).
 */
class RefChunks {
  private readonly chunks: unknown[][] = [];

  constructor(capacity: number) {
    this.grow(capacity);
  }

  grow(cap: number): void {
    // Below one chunk, the first array grows to the capacity (small collections stay small).
    const first = this.chunks[0];
    if (cap <= REF_CHUNK) {
      if (first && first.length >= cap) return;
      const next = new Array<unknown>(cap).fill(undefined);
      if (first) for (let i = 0; i < first.length; i++) next[i] = first[i];
      this.chunks[0] = next;
      return;
    }
    if (first && first.length < REF_CHUNK) this.grow(REF_CHUNK);
    while (this.chunks.length * REF_CHUNK < cap) this.chunks.push(new Array<unknown>(REF_CHUNK).fill(undefined));
  }

  get(r: number): unknown {
    return this.chunks[r >>> REF_CHUNK_BITS][r & (REF_CHUNK - 1)];
  }

  set(r: number, v: unknown): void {
    this.chunks[r >>> REF_CHUNK_BITS][r & (REF_CHUNK - 1)] = v;
  }
}

export class Column {
  private tags: Uint8Array;
  private nums?: Float64Array;
  private oids?: Buffer;
  private refs?: RefChunks;

  constructor(capacity: number) {
    this.tags = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.tags.length;
  }

  /** Forgets every value (all records missing). */
  reset(): void {
    this.tags.fill(0);
    this.nums = undefined;
    this.oids = undefined;
    this.refs = undefined;
  }

  /** Makes room for record numbers below `cap`. */
  grow(cap: number): void {
    if (cap <= this.tags.length) return;
    const tags = new Uint8Array(cap);
    tags.set(this.tags);
    this.tags = tags;
    if (this.nums) {
      const nums = new Float64Array(cap);
      nums.set(this.nums);
      this.nums = nums;
    }
    if (this.oids) {
      const oids = Buffer.alloc(cap * 12);
      this.oids.copy(oids);
      this.oids = oids;
    }
    this.refs?.grow(cap);
  }

  /** Stores a record's value (undefined: the field is missing). */
  set(r: number, v: unknown): void {
    const t = tagOf(v);
    const prev = this.tags[r];
    if ((prev === T_STR || prev === T_OTHER) && this.refs) this.refs.set(r, undefined);
    this.tags[r] = t;
    switch (t) {
      case T_NUM:
        this.numbers()[r] = v as number;
        break;
      case T_DATE:
        this.numbers()[r] = (v as Date).getTime();
        break;
      case T_OID: {
        const id = (v as ObjectId).id;
        this.objectIds().set(id, r * 12);
        break;
      }
      case T_STR:
      case T_OTHER:
        this.references().set(r, v);
        break;
      default:
        break;
    }
  }

  /**
   * Stores a record's value straight from a BSON element of type `t` at `off` (no intermediate
   * objects for the types kept unboxed; others are decoded).
   */
  setBson(r: number, buf: Buffer, t: number, off: number): void {
    const prev = this.tags[r];
    if ((prev === T_STR || prev === T_OTHER) && this.refs) this.refs.set(r, undefined);
    switch (t) {
      case 0x01:
        this.tags[r] = T_NUM;
        this.numbers()[r] = buf.readDoubleLE(off);
        return;
      case 0x10:
        this.tags[r] = T_NUM;
        this.numbers()[r] = buf.readInt32LE(off);
        return;
      case 0x02:
        this.tags[r] = T_STR;
        this.references().set(r, intern(buf.toString('utf8', off + 4, off + 4 + buf.readInt32LE(off) - 1)));
        return;
      case 0x07:
        this.tags[r] = T_OID;
        buf.copy(this.objectIds(), r * 12, off, off + 12);
        return;
      case 0x08:
        this.tags[r] = buf[off] === 1 ? T_TRUE : T_BOOL;
        return;
      case 0x09:
        this.tags[r] = T_DATE;
        this.numbers()[r] = buf.readInt32LE(off + 4) * 4294967296 + buf.readUInt32LE(off);
        return;
      case 0x0a:
        this.tags[r] = T_NULL;
        return;
      case 0x04:
        // An empty array is five bytes (its length and the terminator).
        if (buf.readInt32LE(off) === 5) {
          this.tags[r] = T_EMPTY;
          return;
        }
        this.set(r, decodeElement(buf, t, off));
        return;
      default:
        this.set(r, decodeElement(buf, t, off));
    }
  }

  /** Forgets a removed record's value (drops the reference it may hold). */
  clear(r: number): void {
    this.set(r, undefined);
  }

  /** The stored value (undefined when missing); a fresh object for dates and ObjectIds. */
  get(r: number): unknown {
    switch (this.tags[r]) {
      case T_MISSING:
        return undefined;
      case T_NULL:
        return null;
      case T_NUM:
        return this.nums![r];
      case T_BOOL:
        return false;
      case T_TRUE:
        return true;
      case T_DATE:
        return new Date(this.nums![r]);
      case T_OID:
        return new ObjectId(Buffer.from(this.oids!.subarray(r * 12, r * 12 + 12)));
      case T_EMPTY:
        return [];
      default:
        return this.refs!.get(r);
    }
  }

  /** The value as an index key holds it (a missing field and an empty array index as null). */
  key(r: number): unknown {
    if (this.tags[r] === T_EMPTY) return null;
    const v = this.get(r);
    return v === undefined ? null : v;
  }

  /** Whether the record holds an empty array (an index over it is multikey). */
  holdsEmptyArray(r: number): boolean {
    return this.tags[r] === T_EMPTY;
  }

  /** Whether the record holds an array (an index over it becomes multikey). */
  holdsArray(r: number): boolean {
    return this.tags[r] === T_OTHER && Array.isArray(this.refs!.get(r));
  }

  /** Whether the record holds a value of a type kept as is (compared the slow way). */
  holdsOther(r: number): boolean {
    return this.tags[r] === T_OTHER;
  }

  /** Two records' keys compared as MongoDB orders values. */
  compare(a: number, b: number): number {
    const ta = this.tags[a];
    const tb = this.tags[b];
    if (ta === tb) {
      switch (ta) {
        case T_MISSING:
        case T_NULL:
        case T_BOOL:
        case T_TRUE:
        case T_EMPTY:
          return 0;
        case T_NUM:
        case T_DATE:
          return cmpNum(this.nums![a], this.nums![b]);
        case T_STR: {
          const x = this.refs!.get(a) as string;
          const y = this.refs!.get(b) as string;
          return x < y ? -1 : x > y ? 1 : 0;
        }
        case T_OID: {
          const o = this.oids!;
          const i = a * 12;
          const j = b * 12;
          for (let k = 0; k < 12; k += 4) {
            const x = o.readUInt32BE(i + k);
            const y = o.readUInt32BE(j + k);
            if (x !== y) return x < y ? -1 : 1;
          }
          return 0;
        }
        default:
          return compareValues(this.refs!.get(a), this.refs!.get(b));
      }
    }
    const ra = RANK[ta];
    const rb = RANK[tb];
    if (ra >= 0 && rb >= 0) return ra === rb ? 0 : ra < rb ? -1 : 1;
    return compareValues(this.key(a), this.key(b));
  }

  /** A record's key compared with a value (as MongoDB orders values). */
  compareTo(r: number, v: unknown): number {
    const t = this.tags[r];
    if (t === T_NUM && typeof v === 'number') return cmpNum(this.nums![r], v);
    if (t === T_STR && typeof v === 'string') {
      const x = this.refs!.get(r) as string;
      return x < v ? -1 : x > v ? 1 : 0;
    }
    if (t === T_DATE && v instanceof Date) return cmpNum(this.nums![r], v.getTime());
    if (t === T_OID && (v as { _bsontype?: string } | null)?._bsontype === 'ObjectId') {
      const id = (v as ObjectId).id;
      const o = this.oids!;
      for (let k = 0; k < 12; k++) {
        const x = o[r * 12 + k];
        const y = id[k];
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    }
    if ((t === T_BOOL || t === T_TRUE) && typeof v === 'boolean') return (t === T_TRUE ? 1 : 0) - (v ? 1 : 0);
    if (t !== T_OTHER && t !== T_OID) {
      const rt = Math.floor(RANK[t]);
      const rv = typeRank(v);
      if (rt !== rv) return rt < rv ? -1 : 1;
    }
    return compareValues(this.key(r), v);
  }

  /**
   * Whether a record holds exactly `v` (a change of type counts as a change; values kept as they
   * are always count as changed).
   */
  same(r: number, v: unknown): boolean {
    const t = tagOf(v);
    if (t !== this.tags[r]) return false;
    switch (t) {
      case T_MISSING:
      case T_NULL:
        return true;
      case T_NUM:
        return this.nums![r] === v;
      case T_BOOL:
      case T_TRUE:
      case T_EMPTY:
        return true;
      case T_DATE:
        return this.nums![r] === (v as Date).getTime();
      case T_STR:
        return this.refs!.get(r) === v;
      case T_OID: {
        const id = (v as ObjectId).id;
        const o = this.oids!;
        for (let k = 0; k < 12; k++) if (o[r * 12 + k] !== id[k]) return false;
        return true;
      }
      default:
        return false;
    }
  }

  /** See `rankColumn`. */
  rank(live: Uint32Array, limit: number): Ranks {
    const ranks = new Uint32Array(limit);
    const tags = this.tags;
    const sizes = new Uint32Array(TAGS);
    for (let i = 0; i < live.length; i++) sizes[tags[live[i]]]++;
    if (sizes[T_OTHER] > 0) return this.rankByComparing(live, ranks);
    const byTag = Array.from(sizes, (n) => new Uint32Array(n));
    const fill = new Uint32Array(TAGS);
    for (let i = 0; i < live.length; i++) {
      const r = live[i];
      const t = tags[r];
      byTag[t][fill[t]++] = r;
    }
    let next = 0;
    // Null, missing and empty arrays (rank 1), numbers (2), strings (3), ObjectIds (7), booleans (8), dates (9).
    if (sizes[T_MISSING] + sizes[T_NULL] + sizes[T_EMPTY] > 0) {
      for (const t of [T_MISSING, T_NULL, T_EMPTY]) for (const r of byTag[t]) ranks[r] = next;
      next++;
    }
    next = this.rankNumbers(byTag[T_NUM], ranks, next);
    const strs = byTag[T_STR];
    if (strs.length > 0) next = this.rankStrings(strs, ranks, next);
    if (sizes[T_OID] > 0) {
      // Usually already in order (ObjectIds grow with time): the (merge) sort of an array then
      // finds one run and stops.
      const oids = Array.from(byTag[T_OID]);
      oids.sort((a, b) => this.compare(a, b));
      let prev = -1;
      for (const r of oids) {
        if (prev >= 0 && this.compare(prev, r) !== 0) next++;
        ranks[r] = next;
        prev = r;
      }
      next++;
    }
    for (const t of [T_BOOL, T_TRUE]) {
      if (sizes[t] === 0) continue;
      for (const r of byTag[t]) ranks[r] = next;
      next++;
    }
    next = this.rankNumbers(byTag[T_DATE], ranks, next);
    return { ranks, max: Math.max(0, next - 1) };
  }

  /**
   * Ranks records holding strings from `next` on; returns the next free rank. Few distinct values
   * (serials, statuses, types) are ranked through a map of them; many (unique keys) by sorting the
   * records once, which is several times cheaper than a map of a million strings.
   */
  private rankStrings(strs: Uint32Array, ranks: Uint32Array, next: number): number {
    const refs = this.refs!;
    const distinct = new Map<string, number>();
    for (const r of strs) {
      distinct.set(refs.get(r) as string, 0);
      if (distinct.size > MAX_MAPPED_STRINGS) break;
    }
    if (distinct.size <= MAX_MAPPED_STRINGS) {
      const sorted = [...distinct.keys()].sort();
      for (let i = 0; i < sorted.length; i++) distinct.set(sorted[i], next + i);
      for (const r of strs) ranks[r] = distinct.get(refs.get(r) as string)!;
      return next + sorted.length;
    }
    const order = Array.from(strs);
    order.sort((a, b) => {
      const x = refs.get(a) as string;
      const y = refs.get(b) as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let prev: string | undefined;
    for (let i = 0; i < order.length; i++) {
      const v = refs.get(order[i]) as string;
      if (i > 0 && v !== prev) next++;
      ranks[order[i]] = next;
      prev = v;
    }
    return next + 1;
  }

  /** Ranks records holding doubles (numbers, booleans or dates) from `next` on; returns the next free rank. */
  private rankNumbers(records: Uint32Array, ranks: Uint32Array, next: number): number {
    if (records.length === 0) return next;
    const nums = this.nums!;
    const vals = new Float64Array(records.length);
    let nans = 0;
    for (let i = 0; i < records.length; i++) {
      const v = nums[records[i]];
      if (v !== v) nans++;
      vals[i] = v;
    }
    // NaN sorts first (as compareValues orders it); a typed array sort puts it last.
    vals.sort();
    const distinct: number[] = [];
    for (let i = 0; i < vals.length - nans; i++) {
      if (distinct.length === 0 || distinct[distinct.length - 1] !== vals[i]) distinct.push(vals[i]);
    }
    const base = nans > 0 ? next + 1 : next;
    for (const r of records) {
      const v = nums[r];
      if (v !== v) {
        ranks[r] = next;
        continue;
      }
      let lo = 0;
      let hi = distinct.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (distinct[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      ranks[r] = base + lo;
    }
    return base + distinct.length;
  }

  private rankByComparing(live: Uint32Array, ranks: Uint32Array): Ranks {
    const order = Array.from(live).sort((a, b) => this.compare(a, b));
    let rank = 0;
    for (let i = 0; i < order.length; i++) {
      if (i > 0 && this.compare(order[i - 1], order[i]) !== 0) rank++;
      ranks[order[i]] = rank;
    }
    return { ranks, max: rank };
  }

  /** Approximate bytes held per record slot (for the memory estimate). */
  get bytesPerSlot(): number {
    return 1 + (this.nums ? 8 : 0) + (this.oids ? 12 : 0) + (this.refs ? 8 : 0);
  }

  private numbers(): Float64Array {
    if (!this.nums) this.nums = new Float64Array(this.tags.length);
    return this.nums;
  }

  private objectIds(): Buffer {
    if (!this.oids) this.oids = Buffer.alloc(this.tags.length * 12);
    return this.oids;
  }

  private references(): RefChunks {
    if (!this.refs) this.refs = new RefChunks(this.tags.length);
    return this.refs;
  }
}

/** A collection's key columns by field name, all sized for the same record numbers. */
export class ColumnSet {
  private readonly cols = new Map<string, Column>();
  private cap = 1024;

  /** The column of a field, created empty (every record missing) when new. */
  column(field: string): Column {
    let c = this.cols.get(field);
    if (!c) {
      c = new Column(this.cap);
      this.cols.set(field, c);
    }
    return c;
  }

  has(field: string): boolean {
    return this.cols.has(field);
  }

  get fields(): IterableIterator<string> {
    return this.cols.keys();
  }

  drop(field: string): void {
    this.cols.delete(field);
  }

  /** Makes room in every column for record number `r`. */
  reserve(r: number): void {
    if (r < this.cap) return;
    let cap = this.cap;
    while (cap <= r) cap *= 2;
    this.cap = cap;
    for (const c of this.cols.values()) c.grow(cap);
  }

  get capacity(): number {
    return this.cap;
  }

  /** Approximate bytes the columns hold (slots only; shared strings and kept values not counted). */
  approximateBytes(): number {
    let n = 0;
    for (const c of this.cols.values()) n += c.capacity * c.bytesPerSlot;
    return n;
  }
}

/** Ranks of a column's values: equal values share a rank, and rank order is value order. */
export interface Ranks {
  /** By record number (only the live records' slots are meaningful). */
  ranks: Uint32Array;
  /** Highest rank given. */
  max: number;
}

/**
 * Ranks the values the live records hold in one column. Values kept unboxed are ranked by type
 * class in MongoDB's order, then within each class by sorting only the distinct values (numbers as
 * a typed array, strings natively); ObjectIds are sorted by their bytes (records usually arrive in
 * ObjectId order, which the sort finds in one pass). A column holding other values falls back to
 * sorting the records with the column's own comparison.
 */
export function rankColumn(col: Column, live: Uint32Array, limit: number): Ranks {
  return col.rank(live, limit);
}
