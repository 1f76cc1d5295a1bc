import { UUID } from 'bson';
import { compileQuery } from './engine';
import { CommandError, toCommandError } from './errors';
import { Index, type IndexSpec, sameKey, sameOptions } from './indexes';
import { compareValues, type Doc, isPlainObject, type SortSpec, sortDocs, typeRank, valueKey } from './values';

/** Receives every change, in order, for the journal. */
export interface ChangeSink {
  record(entry: Doc): void;
}

interface Pred {
  eq?: unknown[];
  lo?: unknown;
  loInc?: boolean;
  hi?: unknown;
  hiInc?: boolean;
}

const MAX_IN_VALUES = 1000;
const MAX_BOUNDS = 1000;

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

/**
 * A collection: documents by canonical `_id` key (insertion order is natural order), and its
 * indexes. Documents are never mutated once stored: an update stores a new object, so readers and
 * cursors holding the old one stay consistent.
 */
export class Collection {
  readonly docs = new Map<string, Doc>();
  readonly indexes: Index[] = [];
  readonly uuid = new UUID();
  /** Documents tested against a filter so far (shows whether lookups scan). */
  examined = 0;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Doc,
    private readonly sink: ChangeSink,
  ) {
    this.indexes.push(new Index({ v: 2, key: { _id: 1 }, name: '_id_' }));
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get idIndex(): Index {
    return this.indexes[0];
  }

  getById(id: unknown): Doc | undefined {
    return this.docs.get(valueKey(id));
  }

  /** Throws the E11000 error a write of `doc` would cause, without changing anything. */
  checkUnique(doc: Doc, isNew: boolean, errPrefix = ''): void {
    const id = valueKey(doc._id);
    if (isNew && this.docs.has(id)) throw this.idIndex.duplicateError(this.ns, [doc._id], errPrefix);
    for (let i = 1; i < this.indexes.length; i++) {
      const idx = this.indexes[i];
      if (!idx.unique) continue;
      const dup = idx.findDuplicate(id, idx.keysFor(doc));
      if (dup) throw idx.duplicateError(this.ns, dup, errPrefix);
    }
  }

  insert(doc: Doc): void {
    validateId(doc._id);
    this.checkUnique(doc, true);
    const id = valueKey(doc._id);
    this.docs.set(id, doc);
    for (const idx of this.indexes) idx.add(id, idx.keysFor(doc));
    this.sink.record({ op: 'put', db: this.db, c: this.name, d: doc });
  }

  /** Replaces a stored document by a new version with the same `_id`. */
  replace(oldDoc: Doc, newDoc: Doc): void {
    this.checkUnique(newDoc, false);
    const id = valueKey(oldDoc._id);
    for (const idx of this.indexes) {
      const before = idx.keysFor(oldDoc);
      const after = idx.keysFor(newDoc);
      // Most updates touch one or two indexed fields: the other indexes keep their entries.
      if (sameIndexKeys(before, after)) continue;
      idx.remove(id, before);
      idx.add(id, after);
    }
    this.docs.set(id, newDoc);
    this.sink.record({ op: 'put', db: this.db, c: this.name, d: newDoc });
  }

  remove(doc: Doc): void {
    const id = valueKey(doc._id);
    if (!this.docs.has(id)) return;
    for (const idx of this.indexes) idx.remove(id, idx.keysFor(doc));
    this.docs.delete(id);
    this.sink.record({ op: 'del', db: this.db, c: this.name, id: doc._id });
  }

  /** Recovery: stores a document without index maintenance (see `rebuildIndexes`). */
  loadRaw(doc: Doc): void {
    this.docs.set(valueKey(doc._id), doc);
  }

  unloadRaw(idValue: unknown): void {
    this.docs.delete(valueKey(idValue));
  }

  /** Recovery: declares an index without building it. */
  declareIndex(spec: IndexSpec): void {
    if (!this.findIndex(spec.name)) this.indexes.push(new Index(spec));
  }

  rebuildIndexes(): void {
    for (const idx of this.indexes) idx.rebuild(this.docs);
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
    let index: Index;
    try {
      index = new Index(spec);
    } catch (e) {
      throw new CommandError(67, 'CannotCreateIndex', toCommandError(e).message);
    }
    index.rebuild(this.docs);
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

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i <= 0) return;
    this.indexes.splice(i, 1);
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
    const f = checkFilter(filter);
    const plan = Object.keys(f).length > 0 ? this.plan(f, []) : undefined;
    // An exact plan returns precisely the matches: no need to compile or test the filter.
    const query = plan?.exact ? undefined : this.compileFilter(f);
    try {
      for (const doc of plan ? this.walk(plan) : this.docs.values()) {
        this.examined++;
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
   * Matching documents in sort order, `skip` and `limit` applied. When an index yields the
   * requested order it is walked and the walk stops at the limit; otherwise matches are sorted.
   */
  findSorted(filter: unknown, sort: SortSpec, skip: number, limit: number): Doc[] {
    const f = checkFilter(filter);
    if (sort.length === 0) {
      const out: Doc[] = [];
      const want = limit > 0 ? skip + limit : Infinity;
      let seen = 0;
      for (const d of this.matches(f)) {
        if (seen++ >= skip) out.push(d);
        if (seen >= want) break;
      }
      return out;
    }
    const plan = this.plan(f, sort);
    if (plan?.kind === 'index' && plan.ordered !== 0) {
      const query = plan.exact ? undefined : this.compileFilter(f);
      const out: Doc[] = [];
      const want = limit > 0 ? skip + limit : Infinity;
      let seen = 0;
      try {
        for (const d of this.walk(plan)) {
          this.examined++;
          if (query && !query.test(d)) continue;
          if (seen++ >= skip) out.push(d);
          if (seen >= want) break;
        }
      } catch (e) {
        throw toCommandError(e);
      }
      return out;
    }
    const sorted = sortDocs(this.find(filter), sort);
    return limit > 0 ? sorted.slice(skip, skip + limit) : skip > 0 ? sorted.slice(skip) : sorted;
  }

  /** Explains how a filter (and sort) would be served; used by tests and the benchmark. */
  explain(
    filter: Doc,
    sort: SortSpec = [],
  ): { stage: 'COLLSCAN' | 'IDHACK' | 'IXSCAN'; index?: string; sorted?: boolean } {
    const plan = Object.keys(filter).length > 0 || sort.length > 0 ? this.plan(filter, sort) : undefined;
    if (!plan) return { stage: 'COLLSCAN' };
    if (plan.kind === 'ids') return { stage: 'IDHACK' };
    if (plan.kind === 'union') return { stage: 'IXSCAN', index: '$or' };
    return { stage: 'IXSCAN', index: plan.idx.name, sorted: plan.ordered !== 0 };
  }

  private *walk(plan: Plan): Generator<Doc> {
    const seen = new Set<string>();
    for (const id of this.planIds(plan)) {
      if (seen.has(id)) continue;
      seen.add(id);
      const d = this.docs.get(id);
      if (d) yield d;
    }
  }

  private *planIds(plan: Plan): Generator<string> {
    if (plan.kind === 'ids') {
      yield* plan.ids;
      return;
    }
    if (plan.kind === 'union') {
      for (const p of plan.plans) yield* this.planIds(p);
      return;
    }
    const { idx, range } = plan;
    const p = plan.prefixes[0]?.length ?? 0;
    const prefixes = plan.ordered < 0 ? [...plan.prefixes].reverse() : plan.prefixes;
    for (const prefix of prefixes) {
      const start = range?.lo !== undefined ? idx.lowerBound([...prefix, range.lo]) : idx.lowerBound(prefix);
      const end = range?.hi !== undefined ? idx.upperBound([...prefix, range.hi]) : idx.upperBound(prefix);
      for (const e of idx.entries.range(start, end, plan.ordered < 0)) if (!range || inRange(e.k[p], range)) yield e.id;
    }
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
      const ids: string[] = [];
      for (const v of idPred.eq) {
        const k = valueKey(v);
        if (this.docs.has(k)) ids.push(k);
      }
      return { kind: 'ids', ids, exact: simple?.size === 1 && simple.get('_id') === 'eq' };
    }
    const sortDir = sort.length > 0 && sort.every(([, d]) => d === sort[0][1]) ? sort[0][1] : 0;
    let best: Candidate | undefined;
    for (const idx of this.indexes) {
      if (!idx.complete) continue;
      let eqCount = 0;
      while (eqCount < idx.fields.length && preds.get(idx.fields[eqCount])?.eq) eqCount++;
      const next = eqCount < idx.fields.length ? preds.get(idx.fields[eqCount]) : undefined;
      const range = next !== undefined && (next.lo !== undefined || next.hi !== undefined);
      let ordered = 0;
      if (
        sortDir !== 0 &&
        eqCount + sort.length <= idx.fields.length &&
        sort.every(([f], i) => idx.fields[eqCount + i] === f)
      ) {
        const single = idx.fields.slice(0, eqCount).every((f) => preds.get(f)!.eq!.length === 1);
        if (single) ordered = sortDir;
      }
      const score = eqCount * 4 + (range ? 2 : 0) + (ordered !== 0 ? 1 : 0);
      if (score > 0 && (!best || score > best.score)) best = { idx, eqCount, range, ordered, score };
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
}

/** `exact`: the candidates are precisely the matches (no filter test needed). */
export type Plan =
  | { kind: 'ids'; ids: string[]; exact: boolean }
  | { kind: 'union'; plans: Plan[]; exact: boolean }
  | { kind: 'index'; idx: Index; prefixes: unknown[][]; range?: Pred; ordered: number; exact: boolean };

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
