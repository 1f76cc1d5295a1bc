import { UUID } from 'bson';
import { compileQuery } from './engine';
import { CommandError, toCommandError } from './errors';
import { Index, type IndexEntry, type IndexSpec, rankScratch, sameKey, sameOptions } from './indexes';
import { ColumnSet, rankColumn, type Ranks } from './key-columns';
import { decodeDoc, encodeDoc, extractTop, NameTable, readId, visitTop } from './raw-doc';
import { RecordStore } from './record-store';
import type { Cursor } from './sorted-list';
import { compareValues, type Doc, isPlainObject, type SortSpec, sortDocs, typeRank } from './values';

/** Receives every change, in order, for the journal. */
export interface ChangeSink {
  record(entry: Doc): void;
}

export interface Pred {
  eq?: unknown[];
  lo?: unknown;
  loInc?: boolean;
  hi?: unknown;
  hiInc?: boolean;
}

const MAX_IN_VALUES = 1000;
const MAX_BOUNDS = 1000;
const MAX_MERGED_PREFIXES = 64;

/** The same stored value for index purposes (strict: a change of type counts as a change). */
function sameIndexValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  const ta = (a as { _bsontype?: string } | null)?._bsontype;
  if (ta === 'ObjectId' && (b as { _bsontype?: string } | null)?._bsontype === 'ObjectId') {
    return (a as { equals(o: unknown): boolean }).equals(b);
  }
  return false;
}

function sameIndexKeys(a: unknown[][], b: unknown[][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (!sameIndexValue(x[j], y[j])) return false;
  }
  return true;
}

function isRegex(v: unknown): boolean {
  return (
    v instanceof RegExp ||
    (v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'BSONRegExp')
  );
}

/** A value an equality lookup through an index can serve exactly (superset semantics). */
function indexable(v: unknown): boolean {
  if (v === undefined || Array.isArray(v) || isRegex(v)) return false;
  if (isPlainObject(v)) return Object.keys(v).every((k) => !k.startsWith('$'));
  return true;
}

function operatorObject(v: unknown): v is Doc {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function extractPreds(filter: Doc, out: Map<string, Pred>): void {
  for (const field of Object.keys(filter)) {
    const cond = filter[field];
    if (field === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) extractPreds(sub, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    const p: Pred = out.get(field) ?? {};
    if (operatorObject(cond)) {
      if ('$eq' in cond && indexable(cond.$eq) && !p.eq) p.eq = [cond.$eq];
      if ('$in' in cond && Array.isArray(cond.$in) && !p.eq) {
        const vals = cond.$in as unknown[];
        if (vals.length <= MAX_IN_VALUES && vals.every(indexable)) p.eq = vals;
      }
      for (const [op, inc, lower] of [
        ['$gt', false, true],
        ['$gte', true, true],
        ['$lt', false, false],
        ['$lte', true, false],
      ] as const) {
        if (!(op in cond)) continue;
        const v = cond[op];
        if (!indexable(v) || isPlainObject(v)) continue;
        if (lower && p.lo === undefined) {
          p.lo = v;
          p.loInc = inc;
        } else if (!lower && p.hi === undefined) {
          p.hi = v;
          p.hiInc = inc;
        }
      }
    } else if (indexable(cond) && !p.eq) {
      p.eq = [cond];
    }
    out.set(field, p);
  }
}

/** Location of one stored document (slab number, offset, length). */
const RECORD_LOCATION_BYTES = 12;
/** An index entry with its own key (dotted, sparse, partial or multikey indexes): object, key array, slot. */
const ENTRY_OVERHEAD_BYTES = 72;
const KEY_VALUE_BYTES = 16;
/** An entry of a column index: one 32-bit record number in a sorted list. */
const COLUMN_ENTRY_BYTES = 4;

const ID_TABLE = new NameTable(['_id']);

/** The top-level fields some indexes read, or null when one reads a dotted path or is partial. */
function topLevelNames(indexes: Index[]): Set<string> | null {
  const names = new Set<string>();
  for (const idx of indexes) {
    if (idx.partial) return null;
    for (const p of idx.paths) {
      if (p.length !== 1) return null;
      names.add(p[0]);
    }
  }
  return names;
}

/**
 * A collection: documents stored as BSON bytes under record numbers (their order is natural
 * order), key columns the indexes read, and the indexes. Each document is decoded when read, so a
 * reader always gets its own copy: changing it never changes what is stored, and an update stores
 * new bytes. Documents are found by `_id` through the `_id` index.
 */
export class Collection {
  readonly records = new RecordStore();
  readonly columns = new ColumnSet();
  readonly indexes: Index[] = [];
  readonly uuid = new UUID();
  /** Documents read (decoded) to answer queries so far: shows whether a lookup scans. */
  examined = 0;
  /** Index entries visited to answer queries so far (counting from an index visits none). */
  keysExamined = 0;
  /** Recovery: a snapshot's documents are being appended (see `beginBulk`). */
  private bulk = false;
  private columnFieldsCache?: string[];

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Doc,
    private readonly sink: ChangeSink,
  ) {
    this.indexes.push(new Index({ v: 2, key: { _id: 1 }, name: '_id_' }, this.columns));
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get idIndex(): Index {
    return this.indexes[0];
  }

  /** Number of stored documents. */
  get size(): number {
    return this.records.size;
  }

  /** Sum of the stored documents' BSON sizes. */
  get storageBytes(): number {
    return this.records.dataBytes;
  }

  /**
   * A cheap estimate of the process memory this collection holds (document slabs, record
   * locations, key columns and index entries): computed from counters, no document is visited.
   */
  approximateMemoryBytes(): number {
    let bytes = this.records.slabBytes + this.records.limit * RECORD_LOCATION_BYTES;
    bytes += this.columns.approximateBytes();
    for (const idx of this.indexes) {
      const n = idx.entries.size;
      bytes += idx.columnar ? n * COLUMN_ENTRY_BYTES : n * (ENTRY_OVERHEAD_BYTES + KEY_VALUE_BYTES * idx.fields.length);
    }
    return bytes;
  }

  /** Every stored document, decoded, in natural order. */
  *allDocs(): Generator<Doc> {
    for (const r of this.records.records()) yield decodeDoc(this.records.get(r)!);
  }

  /** The record number of the document with this `_id` (undefined when there is none). */
  recordOf(id: unknown): number | undefined {
    return this.idIndex.lookup(id);
  }

  getById(id: unknown): Doc | undefined {
    const r = this.recordOf(id);
    const buf = r === undefined ? undefined : this.records.get(r);
    return buf ? decodeDoc(buf) : undefined;
  }

  /** Throws the E11000 error a write of `doc` would cause, without changing anything. */
  checkUnique(doc: Doc, isNew: boolean, errPrefix = ''): void {
    const self = this.recordOf(doc._id);
    if (isNew && self !== undefined) throw this.idIndex.duplicateError(this.ns, [doc._id], errPrefix);
    for (let i = 1; i < this.indexes.length; i++) {
      const idx = this.indexes[i];
      if (!idx.unique) continue;
      const dup = idx.findDuplicate(isNew ? -1 : (self ?? -1), idx.keysFor(doc));
      if (dup) throw idx.duplicateError(this.ns, dup, errPrefix);
    }
  }

  insert(doc: Doc): void {
    validateId(doc._id);
    this.checkUnique(doc, true);
    const buf = encodeDoc(doc);
    const r = this.records.add(buf);
    this.columns.reserve(r);
    // Index keys come from the stored bytes, so they hold no part of the caller's object.
    const keyDoc = this.keyView(buf) ?? decodeDoc(buf);
    const fields = this.columnFields();
    for (const f of fields) this.columns.column(f).set(r, keyDoc[f]);
    for (const idx of this.indexes) this.addTo(idx, r, keyDoc);
    this.sink.record({ op: 'put', db: this.db, c: this.name, d: doc, raw: buf });
  }

  /** Adds a record (its key values already in the columns) to an index. */
  private addTo(idx: Index, r: number, keyDoc: Doc): void {
    if (idx.columnar) {
      if (!idx.needsEntries(r)) {
        idx.add(r, []);
        return;
      }
      idx.toEntries(r);
      this.columnFieldsCache = undefined;
      return;
    }
    idx.add(r, idx.keysFor(keyDoc));
  }

  /** Replaces a stored document by a new version with the same `_id`. */
  replace(oldDoc: Doc, newDoc: Doc): void {
    const r = this.recordOf(oldDoc._id);
    const prev = r === undefined ? undefined : this.records.get(r);
    if (r === undefined || !prev) {
      this.checkUnique(newDoc, false);
      return;
    }
    const buf = encodeDoc(newDoc);
    // Index keys come from the stored bytes on both sides, so they hold no part of a caller's object.
    // The old keys are read only for indexes kept as entries (column indexes compare the columns).
    let before: Doc | undefined;
    const after = this.keyView(buf) ?? decodeDoc(buf);
    const changed = new Set<string>();
    for (const f of this.columnFields()) if (!this.columns.column(f).same(r, after[f])) changed.add(f);
    // Most updates touch one or two indexed fields: the other indexes keep their entries. Entries
    // are removed while the columns still hold the old values, and added once they hold the new.
    const readd: Array<[Index, unknown[][], unknown[][]]> = [];
    for (const idx of this.indexes) {
      if (idx.columnar) {
        if (!idx.fields.some((f) => changed.has(f))) continue;
        readd.push([idx, [], []]);
        continue;
      }
      before ??= this.keyView(prev) ?? decodeDoc(prev);
      const kb = idx.keysFor(before);
      const ka = idx.keysFor(after);
      if (sameIndexKeys(kb, ka)) continue;
      readd.push([idx, kb, ka]);
    }
    // Nothing has changed yet: a unique index whose keys this document keeps cannot gain a
    // duplicate (it holds none), so only the indexes whose keys change are checked, in index order.
    for (const [idx] of readd) {
      if (!idx.unique || idx === this.idIndex) continue;
      const dup = idx.findDuplicate(r, idx.keysFor(newDoc));
      if (dup) throw idx.duplicateError(this.ns, dup, '');
    }
    for (const [idx, kb] of readd) idx.remove(r, kb);
    for (const f of changed) this.columns.column(f).set(r, after[f]);
    for (const [idx, , keys] of readd) {
      if (idx.columnar) this.addTo(idx, r, after);
      else idx.add(r, keys);
    }
    this.records.set(r, buf);
    this.sink.record({ op: 'put', db: this.db, c: this.name, d: newDoc, raw: buf });
  }

  remove(doc: Doc): void {
    const r = this.recordOf(doc._id);
    const prev = r === undefined ? undefined : this.records.get(r);
    if (r === undefined || !prev) return;
    const stored = this.keyView(prev) ?? decodeDoc(prev);
    for (const idx of this.indexes) idx.remove(r, idx.columnar ? [] : idx.keysFor(stored));
    for (const f of this.columnFields()) this.columns.column(f).clear(r);
    this.records.delete(r);
    this.sink.record({ op: 'del', db: this.db, c: this.name, id: doc._id });
  }

  /** Recovery: stores a document without index maintenance (see `rebuildIndexes`). */
  loadRaw(doc: Doc): void {
    this.loadBytes(encodeDoc(doc));
  }

  /** Recovery: starts appending a snapshot's documents (their `_id`s are unique: none is looked up). */
  beginBulk(): void {
    this.bulk = true;
  }

  /**
   * Recovery: the snapshot's documents are in; the `_id` index is ordered so that the journal's
   * records find the documents they change (the other indexes are built by `rebuildIndexes`).
   */
  endBulk(): void {
    if (!this.bulk) return;
    this.bulk = false;
    const idx = this.idIndex;
    this.loadColumnIndexes([idx], Uint32Array.from(this.records.records()));
    // A damaged snapshot holding one _id twice: the later document wins, as replaying it would.
    const col = this.columns.column('_id');
    const twice: number[] = [];
    let prev = -1;
    for (const e of idx.entries) {
      if (prev >= 0 && col.compare(prev, e.id) === 0) twice.push(prev);
      prev = e.id;
    }
    for (const r of twice) {
      idx.remove(r, []);
      this.records.delete(r);
    }
  }

  /**
   * Recovery: stores a document's BSON bytes as they are (copied). While a snapshot loads they are
   * appended; afterwards (the journal) a document with the same `_id` is replaced.
   */
  loadBytes(buf: Uint8Array): void {
    const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const col = this.columns.column('_id');
    if (this.bulk) {
      const r = this.records.add(bytes);
      this.columns.reserve(r);
      visitTop(bytes, ID_TABLE, (_i, t, off) => col.setBson(r, bytes, t, off));
      return;
    }
    const id = readId(bytes);
    const found = this.idIndex.lookup(id);
    if (found !== undefined) {
      this.records.set(found, bytes);
      return;
    }
    const r = this.records.add(bytes);
    this.columns.reserve(r);
    col.set(r, id);
    this.idIndex.add(r, []);
  }

  unloadRaw(idValue: unknown): void {
    this.endBulk();
    const r = this.idIndex.lookup(idValue);
    if (r === undefined) return;
    this.idIndex.remove(r, []);
    this.records.delete(r);
    this.columns.column('_id').clear(r);
  }

  /** Recovery: declares an index without building it. */
  declareIndex(spec: IndexSpec): void {
    if (!this.findIndex(spec.name)) {
      this.indexes.push(new Index(spec, this.columns));
      this.columnFieldsCache = undefined;
    }
  }

  /**
   * Builds every index in one pass over the documents (each read once, not once per index): the
   * key columns are filled straight from the documents' bytes, then each column index is ordered
   * from its fields' value ranks; indexes with their own keys sort their entries once.
   */
  rebuildIndexes(): void {
    this.endBulk();
    // The `_id` column and index are already complete (ordered by endBulk, kept by the journal's records).
    const fields = this.columnFields().filter((f) => f !== '_id');
    this.columns.reserve(this.records.limit);
    const cols = fields.map((f) => this.columns.column(f));
    for (const c of cols) c.reset();
    const table = new NameTable(fields);
    const keyed = this.indexes.filter((idx) => !idx.columnar);
    const keyedNames = topLevelNames(keyed);
    const all: IndexEntry[][] = keyed.map(() => []);
    const live: number[] = [];
    const arrays = new Set<string>();
    const emptyArrays = new Set<string>();
    let r = 0;
    let buf: Buffer = Buffer.alloc(0);
    const fill = (i: number, t: number, off: number): void => {
      cols[i].setBson(r, buf, t, off);
      // Empty arrays index as null in a column; any other array needs an index with its own keys.
      if (t === 0x04) (cols[i].holdsEmptyArray(r) ? emptyArrays : arrays).add(fields[i]);
    };
    for (r of this.records.records()) {
      live.push(r);
      buf = this.records.get(r)!;
      visitTop(buf, table, fill);
      if (keyed.length === 0) continue;
      const doc = (keyedNames && extractTop(buf, keyedNames)) ?? decodeDoc(buf);
      for (let i = 0; i < keyed.length; i++) {
        for (const k of keyed[i].keysFor(doc)) all[i].push({ k, id: r });
      }
    }
    keyed.forEach((idx, i) => idx.load(all[i]));
    const multikey = this.indexes.filter((idx) => idx.columnar && idx.fields.some((f) => arrays.has(f)));
    this.loadColumnIndexes(
      this.indexes.filter((idx) => idx.columnar && idx !== this.idIndex && !multikey.includes(idx)),
      Uint32Array.from(live),
    );
    for (const idx of multikey) idx.toEntries(undefined, live.slice());
    for (const idx of this.indexes) if (idx.fields.some((f) => emptyArrays.has(f))) idx.multikey = true;
    this.columnFieldsCache = undefined;
  }

  /** Orders column indexes from their fields' value ranks (each field ranked once for all of them). */
  private loadColumnIndexes(indexes: Index[], live: Uint32Array): void {
    const ranks = new Map<string, Ranks>();
    const rankOf = (f: string): Ranks => {
      let rk = ranks.get(f);
      if (!rk) {
        rk = rankColumn(this.columns.column(f), live, this.records.limit);
        ranks.set(f, rk);
      }
      return rk;
    };
    const scratch = rankScratch(live);
    for (const idx of indexes) idx.loadRanked(live, idx.fields.map(rankOf), scratch);
  }

  /** Top-level fields the column indexes read (their values are kept in `columns`). */
  private columnFields(): string[] {
    if (!this.columnFieldsCache) {
      const set = new Set<string>();
      for (const idx of this.indexes) if (idx.columnar) for (const f of idx.fields) set.add(f);
      this.columnFieldsCache = [...set];
      for (const f of [...this.columns.fields]) if (!set.has(f)) this.columns.drop(f);
    }
    return this.columnFieldsCache;
  }

  /**
   * The fields every index reads, decoded from the stored bytes when they are all top-level
   * scalars (else undefined: decode the document). Partial indexes test whole documents.
   */
  private keyView(buf: Buffer): Doc | undefined {
    const names = this.keyFields();
    return names ? extractTop(buf, names) : undefined;
  }

  private keyFieldsCache?: { indexes: number; names: Set<string> | null };

  private keyFields(): Set<string> | null {
    const c = this.keyFieldsCache;
    if (c && c.indexes === this.indexes.length) return c.names;
    let names: Set<string> | null = new Set<string>(['_id']);
    for (const idx of this.indexes) {
      if (idx.spec.partialFilterExpression) names = null;
      if (!names) break;
      for (const p of idx.paths) {
        if (p.length !== 1) names = null;
        else names.add(p[0]);
        if (!names) break;
      }
    }
    this.keyFieldsCache = { indexes: this.indexes.length, names };
    return names;
  }

  findIndex(name: string): Index | undefined {
    return this.indexes.find((i) => i.name === name);
  }

  /** Builds an index; returns false when an identical one exists. Throws on conflicts and duplicates. */
  createIndex(spec: IndexSpec): boolean {
    for (const idx of this.indexes) {
      const sameK = sameKey(idx.spec.key, spec.key);
      if (idx.name === spec.name) {
        if (sameK && sameOptions(idx.spec, spec)) return false;
        if (spec.name === '_id_' && sameK) return false;
        throw new CommandError(
          86,
          'IndexKeySpecsConflict',
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(idx.spec)}`,
        );
      }
      if (
        sameK &&
        compareValues(idx.spec.partialFilterExpression ?? null, spec.partialFilterExpression ?? null) === 0
      ) {
        if (sameOptions(idx.spec, spec)) return false;
        throw new CommandError(
          85,
          'IndexOptionsConflict',
          `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(idx.spec)}`,
        );
      }
    }
    const known = new Set(this.columnFields());
    let index: Index;
    try {
      index = new Index(spec, this.columns);
    } catch (e) {
      throw new CommandError(67, 'CannotCreateIndex', toCommandError(e).message);
    }
    this.columnFieldsCache = undefined;
    if (index.columnar) {
      // Fields no other index reads get their column filled from the documents.
      const fresh = index.fields.filter((f) => !known.has(f));
      const names = new Set(fresh);
      const cols = fresh.map((f) => this.columns.column(f));
      const live: number[] = [];
      let arrays = false;
      this.columns.reserve(this.records.limit);
      for (const r of this.records.records()) {
        live.push(r);
        if (cols.length === 0) continue;
        const buf = this.records.get(r)!;
        const doc = extractTop(buf, names) ?? decodeDoc(buf);
        for (let i = 0; i < cols.length; i++) {
          cols[i].set(r, doc[fresh[i]]);
          if (cols[i].holdsArray(r)) arrays = true;
        }
      }
      for (const r of live) {
        if (index.needsEntries(r)) arrays = true;
        if (index.holdsEmptyArray(r)) index.multikey = true;
      }
      this.loadColumnIndexes([index], Uint32Array.from(live));
      if (arrays) index.toEntries();
    } else {
      const entries: IndexEntry[] = [];
      for (const r of this.records.records()) {
        const buf = this.records.get(r)!;
        const doc =
          index.partial || index.paths.some((p) => p.length !== 1) ? decodeDoc(buf) : this.keyViewFor(buf, index);
        for (const k of index.keysFor(doc)) entries.push({ k, id: r });
      }
      index.load(entries);
    }
    const dup = index.firstDuplicate();
    if (dup) {
      const uuid = this.uuid.toHexString();
      throw index.duplicateError(
        this.ns,
        dup,
        `Index build failed: ${uuid}: Collection ${this.ns} ( ${uuid} ) :: caused by :: `,
      );
    }
    this.indexes.push(index);
    this.sink.record({ op: 'createIndex', db: this.db, c: this.name, spec });
    return true;
  }

  private keyViewFor(buf: Buffer, index: Index): Doc {
    return extractTop(buf, new Set(index.fields)) ?? decodeDoc(buf);
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i <= 0) return;
    this.indexes.splice(i, 1);
    this.columnFieldsCache = undefined;
    this.sink.record({ op: 'dropIndex', db: this.db, c: this.name, name });
  }

  compileFilter(filter: unknown): ReturnType<typeof compileQuery> {
    const f = checkFilter(filter);
    try {
      return compileQuery(f);
    } catch (e) {
      throw toCommandError(e);
    }
  }

  /** Matching documents, in index order when an index narrows the search, else natural order. */
  *matches(filter: unknown): Generator<Doc> {
    const f = normaliseFilter(checkFilter(filter));
    const plan = Object.keys(f).length > 0 ? this.plan(f, []) : undefined;
    // An exact plan returns precisely the matches: no need to compile or test the filter.
    const query = plan?.exact ? undefined : this.compileFilter(f);
    try {
      for (const buf of plan ? this.walk(plan) : this.scan()) {
        this.examined++;
        const doc = decodeDoc(buf);
        if (!query || query.test(doc)) yield doc;
      }
    } catch (e) {
      throw toCommandError(e);
    }
  }

  find(filter: unknown): Doc[] {
    return [...this.matches(filter)];
  }

  /**
   * Number of matching documents (after `skip`, at most `limit` when positive). When an index
   * answers the filter exactly, the count is read from the index's positions: no document and no
   * index entry is visited.
   */
  count(filter: unknown, skip = 0, limit = 0): number {
    const f = normaliseFilter(checkFilter(filter));
    let n = 0;
    if (Object.keys(f).length === 0) n = this.records.size;
    else {
      const plan = this.plan(f, []);
      if (plan?.exact && plan.kind === 'index') {
        for (const [from, to] of this.spans(plan)) n += plan.idx.entries.countBetween(from, to);
      } else if (plan?.exact && plan.kind === 'ids') n = plan.ids.length;
      else for (const _d of this.matches(f)) n++;
    }
    n = Math.max(0, n - Math.max(0, skip));
    return limit > 0 ? Math.min(n, limit) : n;
  }

  /**
   * Distinct values of a top-level field among the matches, read from an index whose fields are
   * the filter's equality fields followed by `field` (jumping from one value to the next), or
   * undefined when no index serves it (the caller then reads documents).
   */
  distinctFromIndex(field: string, filter: unknown): unknown[] | undefined {
    const f = normaliseFilter(checkFilter(filter));
    const simple = simpleFilter(f);
    if (!simple || [...simple.values()].some((k) => k !== 'eq')) return undefined;
    const eqFields = [...simple.keys()];
    for (const idx of this.indexes) {
      if (!idx.complete || idx.multikey) continue;
      const p = eqFields.length;
      if (idx.fields.length <= p || idx.fields[p] !== field) continue;
      if (!eqFields.every((ef) => idx.fields.indexOf(ef) >= 0 && idx.fields.indexOf(ef) < p)) continue;
      const plan = this.plan(f, []);
      if (plan && plan.kind !== 'index') continue;
      const preds = new Map<string, Pred>();
      extractPreds(f, preds);
      let prefixes: unknown[][] = [[]];
      for (const ef of idx.fields.slice(0, p)) {
        const vals = preds.get(ef)!.eq!;
        const next: unknown[][] = [];
        for (const pre of prefixes) for (const v of vals) next.push([...pre, v]);
        prefixes = next;
        if (prefixes.length > MAX_BOUNDS) return undefined;
      }
      const out: unknown[] = [];
      for (const prefix of prefixes) {
        const end = idx.upperBound(prefix);
        let cur = idx.lowerBound(prefix);
        while (idx.entries.countBetween(cur, end) > 0) {
          const e = idx.entries.at(cur)!;
          this.keysExamined++;
          const v = e.k[p];
          if (v === null || v === undefined) return undefined;
          if (!out.some((o) => compareValues(o, v) === 0)) out.push(v);
          cur = idx.upperBound([...prefix, v]);
        }
      }
      return out;
    }
    return undefined;
  }

  /**
   * Matching documents in sort order, `skip` and `limit` applied. When an index yields the
   * requested order it is walked and the walk stops at the limit; an exact plan skips by position,
   * so only the page's documents are read.
   */
  findSorted(filter: unknown, sort: SortSpec, skip: number, limit: number): Doc[] {
    const f = normaliseFilter(checkFilter(filter));
    const want = limit > 0 ? skip + limit : Infinity;
    if (sort.length === 0) {
      const out: Doc[] = [];
      if (Object.keys(f).length === 0) {
        let seen = 0;
        for (const r of this.records.records()) {
          if (seen++ < skip) continue;
          this.examined++;
          out.push(decodeDoc(this.records.get(r)!));
          if (seen >= want) break;
        }
        return out;
      }
      const plan = this.plan(f, []);
      if (plan?.exact && plan.kind === 'index') return this.readSpans(plan, skip, limit);
      let seen = 0;
      for (const d of this.matches(f)) {
        if (seen++ >= skip) out.push(d);
        if (seen >= want) break;
      }
      return out;
    }
    const plan = this.plan(f, sort);
    if (plan?.kind === 'index' && plan.ordered !== 0) {
      if (plan.exact) return this.readSpans(plan, skip, limit);
      const query = this.compileFilter(f);
      const out: Doc[] = [];
      let seen = 0;
      try {
        for (const buf of this.walk(plan)) {
          this.examined++;
          const d = decodeDoc(buf);
          if (!query.test(d)) continue;
          if (seen++ >= skip) out.push(d);
          if (seen >= want) break;
        }
      } catch (e) {
        throw toCommandError(e);
      }
      return out;
    }
    const sorted = sortDocs(this.find(f), sort);
    return limit > 0 ? sorted.slice(skip, skip + limit) : skip > 0 ? sorted.slice(skip) : sorted;
  }

  /** Reads an exact index plan's matches in its order, skipping by position where it can. */
  private readSpans(plan: IndexPlan, skip: number, limit: number): Doc[] {
    const out: Doc[] = [];
    const seen = plan.idx.multikey ? new Set<number>() : undefined;
    let toSkip = skip;
    for (const e of this.planEntries(plan, seen ? 0 : skip)) {
      if (seen) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
      }
      const buf = this.records.get(e.id);
      if (!buf) continue;
      this.examined++;
      out.push(decodeDoc(buf));
      if (limit > 0 && out.length >= limit) return out;
    }
    return out;
  }

  /**
   * An index plan's entries in the plan's order, the first `skip` passed over: by position when
   * the spans are read one after another, entry by entry when several equality prefixes are
   * merged into one sort order (MongoDB's SORT_MERGE of an exploded `$in`).
   */
  private *planEntries(plan: IndexPlan, skip = 0): Generator<IndexEntry> {
    const entries = plan.idx.entries;
    const reverse = plan.ordered < 0;
    let spans = this.spans(plan);
    if (plan.ordered !== 0 && spans.length > 1) {
      const p = plan.prefixes[0].length;
      const sign = reverse ? -1 : 1;
      const its = spans.map(([from, to]) => entries.range(from, to, reverse));
      const heads = its.map((it) => it.next());
      let toSkip = skip;
      for (;;) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h.done) continue;
          if (best < 0 || sign * plan.idx.compareSuffix(h.value, heads[best].value as IndexEntry, p) < 0) best = i;
        }
        if (best < 0) return;
        const e = heads[best].value as IndexEntry;
        heads[best] = its[best].next();
        this.keysExamined++;
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
        yield e;
      }
    }
    if (reverse) spans = spans.reverse();
    let toSkip = skip;
    for (let [from, to] of spans) {
      if (toSkip > 0) {
        const n = entries.countBetween(from, to);
        if (n <= toSkip) {
          toSkip -= n;
          continue;
        }
        if (reverse) to = entries.retreat(to, toSkip);
        else from = entries.advance(from, toSkip);
        toSkip = 0;
      }
      for (const e of entries.range(from, to, reverse)) {
        this.keysExamined++;
        yield e;
      }
    }
  }

  /** Explains how a filter (and sort) would be served; used by tests and the benchmark. */
  explain(
    filter: Doc,
    sort: SortSpec = [],
  ): { stage: 'COLLSCAN' | 'IDHACK' | 'IXSCAN'; index?: string; sorted?: boolean; exact?: boolean } {
    const f = normaliseFilter(filter);
    const plan = Object.keys(f).length > 0 || sort.length > 0 ? this.plan(f, sort) : undefined;
    if (!plan) return { stage: 'COLLSCAN' };
    if (plan.kind === 'ids') return { stage: 'IDHACK' };
    if (plan.kind === 'union') return { stage: 'IXSCAN', index: '$or' };
    return { stage: 'IXSCAN', index: plan.idx.name, sorted: plan.ordered !== 0, exact: plan.exact };
  }

  /** Every stored document's bytes, in natural order. */
  private *scan(): Generator<Buffer> {
    for (const r of this.records.records()) yield this.records.get(r)!;
  }

  private *walk(plan: Plan): Generator<Buffer> {
    const seen = new Set<number>();
    for (const id of this.planIds(plan)) {
      if (seen.has(id)) continue;
      seen.add(id);
      const d = this.records.get(id);
      if (d) yield d;
    }
  }

  /**
   * Positions [from, to) of an index plan, one span per equality prefix in key order: the range
   * bounds keep MongoDB's type bracketing (a `$gt` on a date spans dates only).
   */
  private spans(plan: IndexPlan): Array<[Cursor, Cursor]> {
    const { idx, range } = plan;
    const out: Array<[Cursor, Cursor]> = [];
    for (const prefix of plan.prefixes) {
      if (!range || (range.lo === undefined && range.hi === undefined)) {
        out.push([idx.lowerBound(prefix), idx.upperBound(prefix)]);
        continue;
      }
      out.push([idx.rangeStart(prefix, range), idx.rangeEnd(prefix, range)]);
    }
    return out;
  }

  private *planIds(plan: Plan): Generator<number> {
    if (plan.kind === 'ids') {
      yield* plan.ids;
      return;
    }
    if (plan.kind === 'union') {
      for (const p of plan.plans) yield* this.planIds(p);
      return;
    }
    const { range } = plan;
    const p = plan.prefixes[0]?.length ?? 0;
    for (const e of this.planEntries(plan)) if (!range || inRange(e.k[p], range)) yield e.id;
  }

  /**
   * Chooses how to find the candidates of a filter: `_id` lookups, an index scan over equality
   * prefixes (and one range), a union for `$or`, or nothing (a full scan). With a sort, prefers an
   * index that also yields that order.
   */
  plan(filter: Doc, sort: SortSpec): Plan | undefined {
    const preds = new Map<string, Pred>();
    extractPreds(filter, preds);
    const simple = simpleFilter(filter);
    const idPred = preds.get('_id');
    if (idPred?.eq) {
      const ids: number[] = [];
      for (const v of idPred.eq) {
        const r = this.recordOf(v);
        if (r !== undefined) ids.push(r);
      }
      return { kind: 'ids', ids, exact: simple?.size === 1 && simple.get('_id') === 'eq' };
    }
    let best: Candidate | undefined;
    for (const idx of this.indexes) {
      if (!idx.complete) continue;
      let eqCount = 0;
      while (eqCount < idx.fields.length && preds.get(idx.fields[eqCount])?.eq) eqCount++;
      const next = eqCount < idx.fields.length ? preds.get(idx.fields[eqCount]) : undefined;
      const range = next !== undefined && (next.lo !== undefined || next.hi !== undefined);
      let ordered = 0;
      // Walked forwards when the sort follows the index's directions, backwards when it inverts all of them.
      const sortDir = sort.length > 0 && eqCount < idx.fields.length ? sort[0][1] * idx.dirs[eqCount] : 0;
      if (
        sortDir !== 0 &&
        eqCount + sort.length <= idx.fields.length &&
        sort.every(([f, d], i) => idx.fields[eqCount + i] === f && d * idx.dirs[eqCount + i] === sortDir)
      ) {
        // Several equality values are merged into one order when there are few combinations.
        let combos = 1;
        for (const f of idx.fields.slice(0, eqCount)) combos *= preds.get(f)!.eq!.length;
        if (combos <= MAX_MERGED_PREFIXES) ordered = sortDir;
      }
      const score = eqCount * 4 + (range ? 2 : 0) + (ordered !== 0 ? 1 : 0);
      if (score <= 0 || (best && score < best.score)) continue;
      const candidate: Candidate = { idx, eqCount, range, ordered, score };
      if (!best || score > best.score || fewerEntries(candidate, best, preds)) best = candidate;
    }
    if (best) {
      const { idx } = best;
      let combos: unknown[][] = [[]];
      let eqCount = 0;
      for (; eqCount < best.eqCount; eqCount++) {
        const vals = preds.get(idx.fields[eqCount])!.eq!;
        if (combos.length * vals.length > MAX_BOUNDS) break;
        const next: unknown[][] = [];
        for (const c of combos) for (const v of vals) next.push([...c, v]);
        combos = next;
      }
      const complete = eqCount === best.eqCount;
      let range = complete && best.range ? preds.get(idx.fields[eqCount]) : undefined;
      // On a multikey index, a lower and an upper bound may be met by different array elements:
      // scan from one bound only and let the filter decide.
      if (range && idx.multikey && range.lo !== undefined && range.hi !== undefined)
        range = { ...range, hi: undefined };
      combos.sort((a, b) => compareKeyArrays(a, b));
      const exact =
        complete &&
        !idx.multikey &&
        simple !== undefined &&
        [...simple].every(([field, kind]) => {
          const pos = idx.fields.indexOf(field);
          return kind === 'eq' ? pos >= 0 && pos < eqCount : range !== undefined && pos === eqCount;
        });
      return { kind: 'index', idx, prefixes: combos, range, ordered: complete ? best.ordered : 0, exact };
    }
    const or = filter.$or;
    if (Array.isArray(or) && or.length > 0 && or.length <= 100) {
      const plans: Plan[] = [];
      for (const branch of or) {
        if (!isPlainObject(branch)) return undefined;
        const sub = this.plan(branch, []);
        if (!sub) return undefined;
        plans.push(sub);
      }
      return { kind: 'union', plans, exact: false };
    }
    return undefined;
  }
}

interface Candidate {
  idx: Index;
  eqCount: number;
  range: boolean;
  ordered: number;
  score: number;
  /** Entries under the equality prefixes (read from index positions when two candidates tie). */
  entries?: number;
}

const MAX_ESTIMATED_PREFIXES = 16;

/** Entries of a candidate's equality prefixes, counted from index positions (no entry is visited). */
function prefixEntries(c: Candidate, preds: Map<string, Pred>): number {
  if (c.entries !== undefined) return c.entries;
  let prefixes: unknown[][] = [[]];
  for (const f of c.idx.fields.slice(0, c.eqCount)) {
    const vals = preds.get(f)!.eq!;
    if (prefixes.length * vals.length > MAX_ESTIMATED_PREFIXES) return (c.entries = c.idx.entries.size);
    prefixes = prefixes.flatMap((p) => vals.map((v) => [...p, v]));
  }
  let n = 0;
  for (const p of prefixes) n += c.idx.entries.countBetween(c.idx.lowerBound(p), c.idx.upperBound(p));
  return (c.entries = n);
}

/**
 * Between two indexes that serve a filter equally well (same equality prefix length, range and
 * order), the one whose prefix holds fewer entries: `{ sn, enrollid }` walks one person's punches
 * rather than a whole terminal's. MongoDB's planner makes the same choice by trial.
 */
function fewerEntries(a: Candidate, b: Candidate, preds: Map<string, Pred>): boolean {
  return a.score === b.score && prefixEntries(a, preds) < prefixEntries(b, preds);
}

/** `exact`: the candidates are precisely the matches (no filter test needed). */
export interface IndexPlan {
  kind: 'index';
  idx: Index;
  prefixes: unknown[][];
  range?: Pred;
  ordered: number;
  exact: boolean;
}

export type Plan =
  { kind: 'ids'; ids: number[]; exact: boolean } | { kind: 'union'; plans: Plan[]; exact: boolean } | IndexPlan;

/**
 * Merges a top-level `$and` of plain conditions into one conjunction when no field repeats, so
 * `{ $and: [{ a: 1 }, { b: 2 }] }` is planned (and answered exactly) like `{ a: 1, b: 2 }`.
 */
export function normaliseFilter(filter: Doc): Doc {
  const and = filter.$and;
  if (!Array.isArray(and) || and.length === 0) return filter;
  const out: Doc = {};
  for (const k of Object.keys(filter)) if (k !== '$and') out[k] = filter[k];
  for (const part of and) {
    if (!isPlainObject(part)) return filter;
    const flat = normaliseFilter(part);
    for (const k of Object.keys(flat)) {
      if (k in out) return filter;
      out[k] = flat[k];
    }
  }
  return out;
}

function checkFilter(filter: unknown): Doc {
  if (filter === undefined || filter === null) return {};
  if (!isPlainObject(filter)) throw new CommandError(14, 'TypeMismatch', 'filter must be an object');
  return filter;
}

/** A scalar whose index equality means exactly MongoDB equality (no null/missing, arrays, documents). */
function exactScalar(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isNaN(v);
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  return v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'ObjectId';
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

/**
 * For a conjunction of plain field conditions an index can answer exactly, each field's kind
 * ('eq' for a value, $eq or $in; 'range' for $gt/$gte/$lt/$lte); otherwise undefined.
 */
function simpleFilter(filter: Doc): Map<string, 'eq' | 'range'> | undefined {
  const out = new Map<string, 'eq' | 'range'>();
  for (const field of Object.keys(filter)) {
    if (field.startsWith('$')) return undefined;
    const cond = filter[field];
    if (exactScalar(cond)) {
      out.set(field, 'eq');
      continue;
    }
    if (!operatorObject(cond)) return undefined;
    const ops = Object.keys(cond);
    if (ops.length === 1 && ops[0] === '$eq' && exactScalar(cond.$eq)) out.set(field, 'eq');
    else if (
      ops.length === 1 &&
      ops[0] === '$in' &&
      Array.isArray(cond.$in) &&
      cond.$in.length > 0 &&
      cond.$in.every(exactScalar)
    ) {
      out.set(field, 'eq');
    } else if (ops.every((o) => RANGE_OPS.has(o) && exactScalar(cond[o])) && ops.length <= 2) {
      const lower = ops.filter((o) => o === '$gt' || o === '$gte').length;
      if (lower > 1 || ops.length - lower > 1) return undefined;
      out.set(field, 'range');
    } else return undefined;
  }
  return out;
}

function compareKeyArrays(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Range test with MongoDB's type bracketing (a `$gt` on a date only matches dates). */
function inRange(v: unknown, r: Pred): boolean {
  if (r.lo !== undefined) {
    if (typeRank(v) !== typeRank(r.lo)) return false;
    const c = compareValues(v, r.lo);
    if (c < 0 || (c === 0 && !r.loInc)) return false;
  }
  if (r.hi !== undefined) {
    if (typeRank(v) !== typeRank(r.hi)) return false;
    const c = compareValues(v, r.hi);
    if (c > 0 || (c === 0 && !r.hiInc)) return false;
  }
  return true;
}

export function validateId(id: unknown): void {
  if (Array.isArray(id)) throw new CommandError(53, 'InvalidIdField', "can't use an array for _id");
  if (isRegex(id)) throw new CommandError(53, 'InvalidIdField', "can't use a regex for _id");
  if (id === undefined) throw new CommandError(53, 'InvalidIdField', 'document is missing an _id');
}
