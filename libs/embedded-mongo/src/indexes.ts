import { Query } from 'mingo';
import { CommandError } from './errors';
import type { Column, ColumnSet, Ranks } from './key-columns';
import { RecordList } from './record-list';
import { type Cursor, SortedList } from './sorted-list';
import { compareValues, type Doc, ENGINE_OPTIONS, indexValuesAt, isPlainObject, toNumber, typeRank } from './values';

export interface IndexSpec extends Doc {
  v: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
}

/** One index entry: its key and the record number of its document. */
export interface IndexEntry {
  readonly k: unknown[];
  readonly id: number;
}

/** The sorted entries of an index, as the planner walks them. */
export interface Entries {
  readonly size: number;
  readonly end: Cursor;
  at(pos: Cursor): IndexEntry | undefined;
  countBetween(from: Cursor, to: Cursor): number;
  advance(from: Cursor, n: number): Cursor;
  retreat(to: Cursor, n: number): Cursor;
  range(from: Cursor, to: Cursor, reverse?: boolean): Generator<IndexEntry>;
  [Symbol.iterator](): Generator<IndexEntry>;
}

const MAX_KEYS_PER_DOC = 1000;

type Quad = { i0: number; i1: number; i2: number; i3: number; _bsontype?: string };

/** `compareValues` with shortcuts for the key types indexes hold most (a sort of a million keys). */
function compareKey(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    if (ta === 'number' && a === a && b === b) return (a as number) < (b as number) ? -1 : a === b ? 0 : 1;
    if (a instanceof Date && b instanceof Date) {
      const x = a.getTime();
      const y = b.getTime();
      if (x === x && y === y) return x < y ? -1 : x > y ? 1 : 0;
    } else if (ta === 'object' && a !== null && b !== null) {
      const x = a as Quad;
      const y = b as Quad;
      if (
        x._bsontype === 'ObjectId' &&
        y._bsontype === 'ObjectId' &&
        typeof x.i0 === 'number' &&
        typeof y.i0 === 'number'
      ) {
        return cmpU32(x.i0, y.i0) || cmpU32(x.i1, y.i1) || cmpU32(x.i2, y.i2) || cmpU32(x.i3, y.i3);
      }
    }
  }
  return compareValues(a, b);
}

function cmpU32(a: number, b: number): number {
  const x = a >>> 0;
  const y = b >>> 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareKeys(a: unknown[], b: unknown[], n: number): number {
  for (let i = 0; i < n; i++) {
    const c = compareKey(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Compares keys in an index's order: each field ascending or descending as the index declares. */
function compareDirected(a: unknown[], b: unknown[], n: number, dirs: number[]): number {
  for (let i = 0; i < n; i++) {
    const c = compareKey(a[i], b[i]);
    if (c !== 0) return dirs[i] < 0 ? -c : c;
  }
  return 0;
}

/** Renders a key the way mongod prints `dup key: { ... }`. */
function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return '[ ' + v.map(renderValue).join(', ') + ' ]';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 ? '{}' : '{ ' + keys.map((k) => `${k}: ${renderValue(v[k])}`).join(', ') + ' }';
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return (v as { toString(): string }).toString();
}

/** Working arrays of `Index.loadRanked`, shared by the indexes of one build. */
export interface RankScratch {
  a: Uint32Array;
  b: Uint32Array;
  /** By record number. */
  keys: Float64Array;
}

export function rankScratch(live: Uint32Array): RankScratch {
  let top = 0;
  for (let j = 0; j < live.length; j++) if (live[j] > top) top = live[j];
  return { a: new Uint32Array(live.length), b: new Uint32Array(live.length), keys: new Float64Array(top + 1) };
}

/** An index entry read from a column index: the key is read from the columns when asked for. */
class ColumnEntry implements IndexEntry {
  private key?: unknown[];

  constructor(
    readonly id: number,
    private readonly cols: Column[],
  ) {}

  get k(): unknown[] {
    if (!this.key) {
      const n = this.cols.length;
      const k = new Array<unknown>(n);
      for (let i = 0; i < n; i++) k[i] = this.cols[i].key(this.id);
      this.key = k;
    }
    return this.key;
  }
}

/** A column index's sorted record numbers, seen as entries. */
class ColumnEntries implements Entries {
  constructor(
    readonly list: RecordList,
    private readonly cols: Column[],
  ) {}

  get size(): number {
    return this.list.size;
  }

  get end(): Cursor {
    return this.list.end;
  }

  entry(r: number): IndexEntry {
    return new ColumnEntry(r, this.cols);
  }

  at(pos: Cursor): IndexEntry | undefined {
    const r = this.list.at(pos);
    return r === undefined ? undefined : this.entry(r);
  }

  countBetween(from: Cursor, to: Cursor): number {
    return this.list.countBetween(from, to);
  }

  advance(from: Cursor, n: number): Cursor {
    return this.list.advance(from, n);
  }

  retreat(to: Cursor, n: number): Cursor {
    return this.list.retreat(to, n);
  }

  *range(from: Cursor, to: Cursor, reverse = false): Generator<IndexEntry> {
    for (const r of this.list.range(from, to, reverse)) yield this.entry(r);
  }

  *[Symbol.iterator](): Generator<IndexEntry> {
    for (const r of this.list) yield this.entry(r);
  }
}

/** The key array of a document without the indexed field: shared by every such entry. */
const NULL_KEY: readonly unknown[] = Object.freeze([null]);

/**
 * One secondary (or the `_id`) index: entries kept sorted by key then record number, so equality
 * and range lookups are binary searches, and uniqueness is checked against neighbours.
 *
 * An index over top-level fields without options keeps only record numbers; their keys are read
 * from the collection's key columns (see key-columns.ts), so an entry costs a few bytes. Other
 * indexes (dotted paths, sparse, partial, or once a document holds an array: multikey) keep
 * `{ k, id }` entries with the key values computed from the document.
 */
export class Index {
  readonly paths: string[][];
  readonly fields: string[];
  /** Per field: 1 ascending, -1 descending (entries are kept in that order, like mongod's). */
  readonly dirs: number[];
  private list: RecordList | SortedList<IndexEntry>;
  private view: Entries;
  private cols?: Column[];
  private readonly compareEntries: (a: IndexEntry, b: IndexEntry) => number;
  /** Set once any document had an array on an indexed path (then ranges cannot be intersected). */
  multikey = false;
  readonly partial?: Query;
  /** Entries added and removed so far (tests: which indexes a write touched). */
  writes = 0;

  constructor(
    readonly spec: IndexSpec,
    columns?: ColumnSet,
  ) {
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => (toNumber(spec.key[f]) < 0 ? -1 : 1));
    const dirs = this.dirs;
    this.compareEntries = (a, b) => {
      const c = compareDirected(a.k, b.k, a.k.length, dirs);
      if (c !== 0) return c;
      return a.id - b.id;
    };
    this.paths = this.fields.map((f) => f.split('.'));
    if (spec.partialFilterExpression) this.partial = new Query(spec.partialFilterExpression, ENGINE_OPTIONS);
    if (columns && !this.partial && !spec.sparse && this.paths.every((p) => p.length === 1)) {
      const cols = this.fields.map((f) => columns.column(f));
      this.cols = cols;
      const list = new RecordList(this.compareRecords);
      this.list = list;
      this.view = new ColumnEntries(list, cols);
    } else {
      const list = new SortedList<IndexEntry>(this.compareEntries);
      this.list = list;
      this.view = list;
    }
  }

  /** Record order from the key columns: each field in the index's direction, then record number. */
  private readonly compareRecords = (a: number, b: number): number => {
    const cols = this.cols!;
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i].compare(a, b);
      if (c !== 0) return this.dirs[i] < 0 ? -c : c;
    }
    return a - b;
  };

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Whether every document has entries here (so a lookup through it sees every match). */
  get complete(): boolean {
    return !this.spec.sparse && !this.partial;
  }

  /** Whether entries are record numbers keyed by the collection's columns. */
  get columnar(): boolean {
    return this.cols !== undefined;
  }

  get entries(): Entries {
    return this.view;
  }

  keysFor(doc: Doc): unknown[][] {
    if (this.partial && !this.partial.test(doc)) return [];
    if (this.spec.sparse && this.fields.every((f) => !hasPath(doc, f))) return [];
    // Common case, one value per field: one key array of exactly the index's width (keys built by
    // spreading carry spare capacity, which a million entries per index would keep).
    const n = this.paths.length;
    const single: unknown[] = new Array<unknown>(n);
    let simple = true;
    const arrays = { array: false };
    for (let i = 0; i < n && simple; i++) {
      const vals = indexValuesAt(doc, this.paths[i], arrays);
      if (arrays.array || vals.length !== 1) simple = false;
      else single[i] = vals[0];
    }
    if (simple) return [n === 1 && single[0] === null ? (NULL_KEY as unknown[]) : single];
    let combos: unknown[][] = [[]];
    for (const p of this.paths) {
      const seen = { array: false };
      const vals = dedupe(indexValuesAt(doc, p, seen));
      if (seen.array) this.multikey = true;
      const next: unknown[][] = [];
      for (const c of combos) for (const v of vals) if (next.length < MAX_KEYS_PER_DOC) next.push([...c, v]);
      combos = next;
    }
    const keys = dedupeKeys(combos);
    return keys.length === 1 && n === 1 && keys[0][0] === null ? [NULL_KEY as unknown[]] : keys;
  }

  /**
   * Whether record `r` (its values already in the columns) needs key entries a column index
   * cannot hold: an array on an indexed field.
   */
  needsEntries(r: number): boolean {
    return this.cols !== undefined && this.cols.some((c) => c.holdsArray(r));
  }

  /** Whether record `r` holds an empty array on an indexed field (kept in the columns as null). */
  holdsEmptyArray(r: number): boolean {
    return this.cols !== undefined && this.cols.some((c) => c.holdsEmptyArray(r));
  }

  /**
   * Turns a column index into one with `{ k, id }` entries (a document brought an array: the index
   * becomes multikey). Keys come from the columns for the records in the index plus `extra` (one
   * not yet in it), or for `all` when given.
   */
  toEntries(extra?: number, all?: number[]): void {
    const cols = this.cols;
    if (!cols) return;
    const records = all ?? [...(this.list as RecordList)];
    if (extra !== undefined) records.push(extra);
    this.cols = undefined;
    const list = new SortedList<IndexEntry>(this.compareEntries);
    this.list = list;
    this.view = list;
    const entries: IndexEntry[] = [];
    for (const r of records) {
      const doc: Doc = {};
      this.fields.forEach((f, i) => {
        const v = cols[i].get(r);
        if (v !== undefined) doc[f] = v;
      });
      for (const k of this.keysFor(doc)) entries.push({ k, id: r });
    }
    entries.sort(this.compareEntries);
    list.load(entries);
  }

  /** A single-field index (the `_id` index): the record holding `value`, if any. */
  lookup(value: unknown): number | undefined {
    const cols = this.cols;
    if (cols && cols.length === 1) {
      const col = cols[0];
      const list = this.list as RecordList;
      const r = list.at(list.search((x) => col.compareTo(x, value) < 0));
      return r !== undefined && col.compareTo(r, value) === 0 ? r : undefined;
    }
    const e = this.view.at(this.lowerBound([value]));
    return e && compareKey(e.k[0], value) === 0 ? e.id : undefined;
  }

  /** Record `r`'s key: a column index reads it from the columns, others compute it from `doc`. */
  private searchKey(e: IndexEntry | number): unknown[] {
    return typeof e === 'number' ? new ColumnEntry(e, this.cols!).k : e.k;
  }

  private search(before: (k: unknown[]) => boolean): Cursor {
    if (this.cols) return (this.list as RecordList).search((r) => before(this.searchKey(r)));
    return (this.list as SortedList<IndexEntry>).search((e) => before(e.k));
  }

  /** First position whose key prefix is >= `prefix` (compared on prefix.length fields). */
  lowerBound(prefix: unknown[]): Cursor {
    return this.search((k) => compareDirected(k, prefix, prefix.length, this.dirs) < 0);
  }

  /** First position whose key prefix is > `prefix`. */
  upperBound(prefix: unknown[]): Cursor {
    return this.search((k) => compareDirected(k, prefix, prefix.length, this.dirs) <= 0);
  }

  /**
   * First position of a range over field `prefix.length` under an equality prefix. Bounds keep
   * MongoDB's type bracketing: with one bound only, the range stops at the end of that bound's type.
   * On a descending field the range starts at its upper bound.
   */
  rangeStart(prefix: unknown[], r: { lo?: unknown; loInc?: boolean; hi?: unknown; hiInc?: boolean }): Cursor {
    const p = prefix.length;
    const dir = this.dirs[p] ?? 1;
    const first = dir > 0 ? r.lo : r.hi;
    const firstInc = dir > 0 ? r.loInc === true : r.hiInc === true;
    const other = dir > 0 ? r.hi : r.lo;
    return this.search((k) => {
      const c = compareDirected(k, prefix, p, this.dirs);
      if (c !== 0) return c < 0;
      if (first !== undefined) {
        const d = dir * compareKey(k[p], first);
        return firstInc ? d < 0 : d <= 0;
      }
      return dir * (typeRank(k[p]) - typeRank(other)) < 0;
    });
  }

  /** First position past a range (see `rangeStart`). */
  rangeEnd(prefix: unknown[], r: { lo?: unknown; loInc?: boolean; hi?: unknown; hiInc?: boolean }): Cursor {
    const p = prefix.length;
    const dir = this.dirs[p] ?? 1;
    const last = dir > 0 ? r.hi : r.lo;
    const lastInc = dir > 0 ? r.hiInc === true : r.loInc === true;
    const other = dir > 0 ? r.lo : r.hi;
    return this.search((k) => {
      const c = compareDirected(k, prefix, p, this.dirs);
      if (c !== 0) return c < 0;
      if (last !== undefined) {
        const d = dir * compareKey(k[p], last);
        return lastInc ? d <= 0 : d < 0;
      }
      return dir * (typeRank(k[p]) - typeRank(other)) <= 0;
    });
  }

  /** Compares entries on their key fields from `from` on (in index order), then record number. */
  compareSuffix(a: IndexEntry, b: IndexEntry, from: number): number {
    const cols = this.cols;
    if (cols) {
      for (let i = from; i < cols.length; i++) {
        const c = cols[i].compare(a.id, b.id);
        if (c !== 0) return this.dirs[i] < 0 ? -c : c;
      }
      return a.id - b.id;
    }
    for (let i = from; i < a.k.length; i++) {
      const c = compareKey(a.k[i], b.k[i]);
      if (c !== 0) return this.dirs[i] < 0 ? -c : c;
    }
    return a.id - b.id;
  }

  /** Replaces all entries with `entries` (sorted here: one sort instead of one insertion each). */
  load(entries: IndexEntry[]): void {
    if (this.cols) {
      this.loadRecords(entries.map((e) => e.id));
      return;
    }
    entries.sort(this.compareEntries);
    (this.list as SortedList<IndexEntry>).load(entries);
  }

  /** A column index: replaces all entries with these records (their values already in the columns). */
  loadRecords(records: number[]): void {
    if (!this.cols) throw new Error('loadRecords on an index with key entries');
    records.sort(this.compareRecords);
    (this.list as RecordList).load(records);
  }

  /**
   * A column index: loads the live records (ascending) in key order computed from each field's
   * value ranks (see `rankColumn`), ties by record number: one stable counting sort per field, from
   * the last field to the first, so a million entries are ordered in a few passes without comparing.
   */
  loadRanked(live: Uint32Array, ranks: Ranks[], scratch?: RankScratch): void {
    if (!this.cols) throw new Error('loadRanked on an index with key entries');
    const s = scratch ?? rankScratch(live);
    let cur = s.a;
    let out = s.b;
    cur.set(live);
    const keys = s.keys;
    // Neighbouring fields with few values are sorted in one pass on their combined rank.
    const limit = Math.max(1 << 16, live.length);
    let i = ranks.length - 1;
    while (i >= 0) {
      const group: Array<{ rk: Uint32Array; max: number; desc: boolean; scale: number }> = [];
      let span = 1;
      while (i >= 0 && (group.length === 0 || span * (ranks[i].max + 1) <= limit)) {
        group.push({ rk: ranks[i].ranks, max: ranks[i].max, desc: this.dirs[i] < 0, scale: span });
        span *= ranks[i].max + 1;
        i--;
      }
      if (span <= 1) continue;
      // Each record's combined key, computed once for the pass.
      keys.fill(0);
      for (const g of group) {
        const { rk, max, desc, scale } = g;
        for (let j = 0; j < cur.length; j++) {
          const r = cur[j];
          keys[r] += (desc ? max - rk[r] : rk[r]) * scale;
        }
      }
      const counts = new Uint32Array(span + 1);
      for (let j = 0; j < cur.length; j++) counts[keys[cur[j]] + 1]++;
      for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
      for (let j = 0; j < cur.length; j++) {
        const r = cur[j];
        out[counts[keys[r]]++] = r;
      }
      const t = cur;
      cur = out;
      out = t;
    }
    (this.list as RecordList).load(cur);
  }

  /**
   * Adds record `id`: a column index reads its key from the columns (already holding the
   * record's values), others take `keys` (from `keysFor`).
   */
  add(id: number, keys: unknown[][]): void {
    if (this.cols) {
      this.writes++;
      (this.list as RecordList).insert(id);
      if (!this.multikey && this.holdsEmptyArray(id)) this.multikey = true;
      return;
    }
    const list = this.list as SortedList<IndexEntry>;
    for (const k of keys) {
      this.writes++;
      list.insert({ k, id });
    }
  }

  /** Removes record `id` (a column index: while the columns still hold the values it was added with). */
  remove(id: number, keys: unknown[][]): void {
    if (this.cols) {
      this.writes++;
      (this.list as RecordList).delete(id);
      return;
    }
    const list = this.list as SortedList<IndexEntry>;
    for (const k of keys) {
      this.writes++;
      list.delete({ k, id });
    }
  }

  /** First key held by two different records. */
  firstDuplicate(): unknown[] | undefined {
    if (!this.unique) return undefined;
    if (this.cols) {
      const cols = this.cols;
      let prev = -1;
      for (const r of this.list as RecordList) {
        if (prev >= 0 && cols.every((c) => c.compare(prev, r) === 0)) return this.searchKey(r);
        prev = r;
      }
      return undefined;
    }
    let prev: IndexEntry | undefined;
    for (const e of this.list as SortedList<IndexEntry>) {
      if (prev && prev.id !== e.id && compareKeys(prev.k, e.k, e.k.length) === 0) return e.k;
      prev = e;
    }
    return undefined;
  }

  /** The first key among `keys` already held by another record, if any (`id` -1: a new record). */
  findDuplicate(id: number, keys: unknown[][]): unknown[] | undefined {
    if (!this.unique) return undefined;
    for (const k of keys) {
      for (const e of this.view.range(this.lowerBound(k), this.view.end)) {
        if (compareKeys(e.k, k, k.length) !== 0) break;
        if (e.id !== id) return k;
      }
    }
    return undefined;
  }

  duplicateError(ns: string, key: unknown[], prefix = ''): CommandError {
    const keyPattern: Doc = {};
    const keyValue: Doc = {};
    this.fields.forEach((f, i) => {
      keyPattern[f] = this.spec.key[f];
      keyValue[f] = key[i];
    });
    const shown = '{ ' + this.fields.map((f, i) => `${f}: ${renderValue(key[i])}`).join(', ') + ' }';
    return new CommandError(
      11000,
      'DuplicateKey',
      `${prefix}E11000 duplicate key error collection: ${ns} index: ${this.name} dup key: ${shown}`,
      { keyPattern, keyValue },
    );
  }
}

function hasPath(doc: Doc, path: string): boolean {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return false;
    if (Array.isArray(cur)) return true;
    if (!(seg in (cur as Doc))) return false;
    cur = (cur as Doc)[seg];
  }
  return true;
}

function dedupe(vals: unknown[]): unknown[] {
  if (vals.length < 2) return vals;
  const out: unknown[] = [];
  for (const v of vals) if (!out.some((o) => compareValues(o, v) === 0)) out.push(v);
  return out;
}

function dedupeKeys(keys: unknown[][]): unknown[][] {
  if (keys.length < 2) return keys;
  const out: unknown[][] = [];
  for (const k of keys) if (!out.some((o) => compareKeys(o, k, k.length) === 0)) out.push(k);
  return out;
}

const INDEX_OPTIONS = new Set(['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds']);

/** Validates a createIndexes entry and normalises it into the stored spec. */
export function normaliseIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw)) throw new CommandError(9, 'FailedToParse', 'index specification must be an object');
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(67, 'CannotCreateIndex', "index specification must have a non-empty 'key' object");
  }
  const cleanKey: Doc = {};
  for (const f of Object.keys(key)) {
    const d = key[f];
    if (typeof d === 'string') {
      throw new CommandError(67, 'CannotCreateIndex', `index type '${d}' is not supported by the embedded server`);
    }
    const n = toNumber(d);
    if (!Number.isFinite(n) || n === 0)
      throw new CommandError(67, 'CannotCreateIndex', `bad index key value for field '${f}'`);
    cleanKey[f] = n < 0 ? -1 : 1;
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new CommandError(9, 'FailedToParse', "index specification must have a 'name' string");
  }
  const spec: IndexSpec = { v: 2, key: cleanKey, name: raw.name };
  for (const opt of Object.keys(raw)) {
    if (!INDEX_OPTIONS.has(opt)) continue;
    const val = raw[opt];
    if (opt === 'unique' || opt === 'sparse') {
      if (val) spec[opt] = true;
    } else if (opt === 'partialFilterExpression') {
      if (!isPlainObject(val))
        throw new CommandError(67, 'CannotCreateIndex', 'partialFilterExpression must be an object');
      spec.partialFilterExpression = val;
    } else if (opt === 'expireAfterSeconds') {
      spec.expireAfterSeconds = toNumber(val);
    }
  }
  if (spec.name === '_id_' || (Object.keys(cleanKey).length === 1 && '_id' in cleanKey)) {
    if (spec.name === '_id_') delete spec.unique;
  }
  return spec;
}

export function sameKey(a: Doc, b: Doc): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

export function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    !!a.unique === !!b.unique &&
    !!a.sparse === !!b.sparse &&
    a.expireAfterSeconds === b.expireAfterSeconds &&
    compareValues(a.partialFilterExpression ?? null, b.partialFilterExpression ?? null) === 0
  );
}
