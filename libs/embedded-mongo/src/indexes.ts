import { Query } from 'mingo';
import { CommandError } from './errors';
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

export interface IndexEntry {
  k: unknown[];
  id: string;
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

/**
 * One secondary (or the `_id`) index: entries kept sorted by key then record id, so equality and
 * range lookups are binary searches, and uniqueness is checked against neighbours.
 */
export class Index {
  readonly paths: string[][];
  readonly fields: string[];
  /** Per field: 1 ascending, -1 descending (entries are kept in that order, like mongod's). */
  readonly dirs: number[];
  readonly entries: SortedList<IndexEntry>;
  private readonly compareEntries: (a: IndexEntry, b: IndexEntry) => number;
  /** Set once any document had an array on an indexed path (then ranges cannot be intersected). */
  multikey = false;
  readonly partial?: Query;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    this.dirs = this.fields.map((f) => (toNumber(spec.key[f]) < 0 ? -1 : 1));
    const dirs = this.dirs;
    this.compareEntries = (a, b) => {
      const c = compareDirected(a.k, b.k, a.k.length, dirs);
      if (c !== 0) return c;
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    };
    this.entries = new SortedList<IndexEntry>(this.compareEntries);
    this.paths = this.fields.map((f) => f.split('.'));
    if (spec.partialFilterExpression) this.partial = new Query(spec.partialFilterExpression, ENGINE_OPTIONS);
  }

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
    if (simple) return [single];
    let combos: unknown[][] = [[]];
    for (const p of this.paths) {
      const seen = { array: false };
      const vals = dedupe(indexValuesAt(doc, p, seen));
      if (seen.array) this.multikey = true;
      const next: unknown[][] = [];
      for (const c of combos) for (const v of vals) if (next.length < MAX_KEYS_PER_DOC) next.push([...c, v]);
      combos = next;
    }
    return dedupeKeys(combos);
  }

  /** First position whose key prefix is >= `prefix` (compared on prefix.length fields). */
  lowerBound(prefix: unknown[]): Cursor {
    return this.entries.search((e) => compareDirected(e.k, prefix, prefix.length, this.dirs) < 0);
  }

  /** First position whose key prefix is > `prefix`. */
  upperBound(prefix: unknown[]): Cursor {
    return this.entries.search((e) => compareDirected(e.k, prefix, prefix.length, this.dirs) <= 0);
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
    return this.entries.search((e) => {
      const c = compareDirected(e.k, prefix, p, this.dirs);
      if (c !== 0) return c < 0;
      if (first !== undefined) {
        const d = dir * compareKey(e.k[p], first);
        return firstInc ? d < 0 : d <= 0;
      }
      return dir * (typeRank(e.k[p]) - typeRank(other)) < 0;
    });
  }

  /** First position past a range (see `rangeStart`). */
  rangeEnd(prefix: unknown[], r: { lo?: unknown; loInc?: boolean; hi?: unknown; hiInc?: boolean }): Cursor {
    const p = prefix.length;
    const dir = this.dirs[p] ?? 1;
    const last = dir > 0 ? r.hi : r.lo;
    const lastInc = dir > 0 ? r.hiInc === true : r.loInc === true;
    const other = dir > 0 ? r.lo : r.hi;
    return this.entries.search((e) => {
      const c = compareDirected(e.k, prefix, p, this.dirs);
      if (c !== 0) return c < 0;
      if (last !== undefined) {
        const d = dir * compareKey(e.k[p], last);
        return lastInc ? d <= 0 : d < 0;
      }
      return dir * (typeRank(e.k[p]) - typeRank(other)) <= 0;
    });
  }

  /** Compares entries on their key fields from `from` on (in index order), then record id. */
  compareSuffix(a: IndexEntry, b: IndexEntry, from: number): number {
    for (let i = from; i < a.k.length; i++) {
      const c = compareKey(a.k[i], b.k[i]);
      if (c !== 0) return this.dirs[i] < 0 ? -c : c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /** The record id string stored in this index for a single-field key (shared with the document map). */
  sharedId(value: unknown): string | undefined {
    const e = this.entries.at(this.lowerBound([value]));
    return e && compareKey(e.k[0], value) === 0 ? e.id : undefined;
  }

  /** Replaces all entries with `entries` (sorted here: one sort instead of one insertion each). */
  load(entries: IndexEntry[]): void {
    entries.sort(this.compareEntries);
    this.entries.load(entries);
  }

  add(id: string, keys: unknown[][]): void {
    for (const k of keys) this.entries.insert({ k, id });
  }

  /** First key held by two different records. */
  firstDuplicate(): unknown[] | undefined {
    if (!this.unique) return undefined;
    let prev: IndexEntry | undefined;
    for (const e of this.entries) {
      if (prev && prev.id !== e.id && compareKeys(prev.k, e.k, e.k.length) === 0) return e.k;
      prev = e;
    }
    return undefined;
  }

  remove(id: string, keys: unknown[][]): void {
    for (const k of keys) this.entries.delete({ k, id });
  }

  /** The first key among `keys` already held by another record, if any. */
  findDuplicate(id: string, keys: unknown[][]): unknown[] | undefined {
    if (!this.unique) return undefined;
    for (const k of keys) {
      for (const e of this.entries.range(this.lowerBound(k), this.entries.end)) {
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
