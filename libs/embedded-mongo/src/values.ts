/**
 * BSON value helpers: MongoDB's cross-type ordering, canonical equality keys, copy-on-write cloning
 * and dotted-path extraction. Values are what `bson.deserialize` produces with its default
 * promotions (numbers, strings, Date, RegExp, ObjectId, Binary, Long when it does not fit, ...).
 */
export type Doc = Record<string, unknown>;

/** Query engine options: no server-side JavaScript (`$where`, `$function`, `$accumulator`). */
export const ENGINE_OPTIONS = { scriptEnabled: false } as const;

type BsonTagged = { _bsontype?: string };

function bsonType(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object') return (v as BsonTagged)._bsontype;
  return undefined;
}

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Rank of a value's type in MongoDB's comparison order. */
export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
    case 'function':
    case 'object':
    case 'symbol':
    case 'undefined':
      break;
  }
  if (Array.isArray(v)) return 5;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  switch (bsonType(v)) {
    case 'MinKey':
      return 0;
    case 'MaxKey':
      return 100;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 2;
    case 'BSONSymbol':
      return 3;
    case 'Binary':
      return 6;
    case 'ObjectId':
      return 7;
    case 'Timestamp':
      return 10;
    case 'BSONRegExp':
      return 11;
    case 'Code':
      return 13;
    case 'DBRef':
    case undefined:
    default:
      return 4;
  }
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const t = bsonType(v);
  if (t === 'Long' || t === 'Timestamp') return (v as { toNumber(): number }).toNumber();
  if (t === 'Int32' || t === 'Double') return (v as { valueOf(): number }).valueOf();
  if (t === 'Decimal128') return Number((v as { toString(): string }).toString());
  return NaN;
}

function cmpNum(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  const b = v as { buffer: Uint8Array; position?: number };
  return typeof b.position === 'number' ? b.buffer.subarray(0, b.position) : b.buffer;
}

/** Total order over BSON values, as MongoDB sorts and compares them. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
    case 1:
    case 100:
      return 0;
    case 2:
      return cmpNum(toNumber(a), toNumber(b));
    case 3:
      return cmpStr(String(a), String(b));
    case 4:
      return compareObjects(a as Doc, b as Doc);
    case 5: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length < 0 ? -1 : x.length === y.length ? 0 : 1;
    }
    case 6: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      const st = (a as { sub_type: number }).sub_type - (b as { sub_type: number }).sub_type;
      if (st !== 0) return st < 0 ? -1 : 1;
      return Buffer.compare(
        Buffer.from(x.buffer, x.byteOffset, x.length),
        Buffer.from(y.buffer, y.byteOffset, y.length),
      );
    }
    case 7:
      return cmpStr((a as { toHexString(): string }).toHexString(), (b as { toHexString(): string }).toHexString());
    case 8:
      return a === b ? 0 : a ? 1 : -1;
    case 9:
      return cmpNum((a as Date).getTime(), (b as Date).getTime());
    case 10: {
      const x = a as { compare(o: unknown): number };
      return Math.sign(x.compare(b));
    }
    case 11: {
      const sa = a instanceof RegExp ? a.source : (a as { pattern: string }).pattern;
      const sb = b instanceof RegExp ? b.source : (b as { pattern: string }).pattern;
      const fa = a instanceof RegExp ? a.flags : (a as { options: string }).options;
      const fb = b instanceof RegExp ? b.flags : (b as { options: string }).options;
      return cmpStr(sa, sb) || cmpStr(fa, fb);
    }
    default:
      return cmpStr(String(a), String(b));
  }
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const r = typeRank(a[ka[i]]) - typeRank(b[kb[i]]);
    if (r !== 0) return r < 0 ? -1 : 1;
    const c = cmpStr(ka[i], kb[i]) || compareValues(a[ka[i]], b[kb[i]]);
    if (c !== 0) return c;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/** A string that is equal for two values exactly when `compareValues` says they are equal. */
export function valueKey(v: unknown): string {
  switch (typeRank(v)) {
    case 0:
      return 'min';
    case 1:
      return 'null';
    case 100:
      return 'max';
    case 2: {
      if (typeof v === 'number') return 'n' + String(v);
      const t = bsonType(v);
      if (t === 'Long') {
        const n = toNumber(v);
        return Number.isSafeInteger(n) ? 'n' + String(n) : 'n' + String(v);
      }
      return 'n' + String(toNumber(v));
    }
    case 3:
      return 's' + String(v);
    case 5:
      return '[' + (v as unknown[]).map(valueKey).join(',') + ']';
    case 6: {
      const x = bytesOf(v);
      return (
        'b' +
        String((v as { sub_type: number }).sub_type) +
        ':' +
        Buffer.from(x.buffer, x.byteOffset, x.length).toString('base64')
      );
    }
    case 7:
      return 'o' + (v as { toHexString(): string }).toHexString();
    case 8:
      return v ? 'T' : 'F';
    case 9:
      return 'd' + String((v as Date).getTime());
    default: {
      if (isPlainObject(v)) {
        return (
          '{' +
          Object.keys(v)
            .map((k) => JSON.stringify(k) + ':' + valueKey(v[k]))
            .join(',') +
          '}'
        );
      }
      if (v instanceof RegExp) return 'r/' + v.source + '/' + v.flags;
      const t = bsonType(v);
      if (t === 'DBRef') {
        const r = v as { collection: string; oid: unknown; db?: string };
        return 'ref' + r.collection + ':' + valueKey(r.oid) + ':' + (r.db ?? '');
      }
      return (t ?? typeof v) + ':' + String(v);
    }
  }
}

/**
 * Deep copy of plain objects and arrays; BSON value objects are immutable in practice and are
 * shared, Dates are copied (they are mutable).
 */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  return v;
}

/**
 * Values at a dotted path the way an index sees them: arrays met on the way are traversed,
 * a trailing array contributes its elements, a missing path contributes null.
 */
export function indexValuesAt(doc: unknown, path: string[], seen?: { array: boolean }): unknown[] {
  const out: unknown[] = [];
  walk(doc, path, 0, out, seen);
  if (out.length === 0) out.push(null);
  return out;
}

function walk(cur: unknown, path: string[], i: number, out: unknown[], seen?: { array: boolean }): void {
  if (i === path.length) {
    if (Array.isArray(cur)) {
      if (seen) seen.array = true;
      if (cur.length === 0) out.push(null);
      else for (const e of cur) out.push(e === undefined ? null : e);
    } else out.push(cur === undefined ? null : cur);
    return;
  }
  if (cur === null || typeof cur !== 'object') return;
  const seg = path[i];
  if (Array.isArray(cur)) {
    if (seen) seen.array = true;
    if (/^\d+$/.test(seg)) {
      const idx = Number(seg);
      if (idx < cur.length) walk(cur[idx], path, i + 1, out, seen);
    }
    for (const e of cur) if (e !== null && typeof e === 'object' && !Array.isArray(e)) walk(e, path, i, out, seen);
    return;
  }
  if (!isPlainObject(cur)) return;
  if (!(seg in cur)) return;
  walk(cur[seg], path, i + 1, out, seen);
}

/** Plain (non-traversing) value at a dotted path, undefined when missing. */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Doc)[seg];
  }
  return cur;
}

/** Sets a dotted path, creating intermediate objects. */
export function setPath(doc: Doc, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur: Doc = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = cur[segs[i]];
    if (next === null || typeof next !== 'object') {
      const created: Doc = {};
      cur[segs[i]] = created;
      cur = created;
    } else cur = next as Doc;
  }
  cur[segs[segs.length - 1]] = value;
}

/** Sort key for one field: ascending uses the smallest array element, descending the largest. */
export function sortValueAt(doc: unknown, path: string, dir: number): unknown {
  const vals = indexValuesAt(doc, path.split('.'));
  let best = vals[0];
  for (let i = 1; i < vals.length; i++) {
    const c = compareValues(vals[i], best);
    if ((dir > 0 && c < 0) || (dir < 0 && c > 0)) best = vals[i];
  }
  return best;
}

export type SortSpec = Array<[string, number]>;

export function parseSort(sort: unknown): SortSpec {
  if (!isPlainObject(sort)) return [];
  return Object.keys(sort).map((k) => {
    const d = sort[k];
    if (isPlainObject(d) && '$meta' in d) throw new Error('$meta sort is not supported');
    const n = toNumber(d);
    return [k, n < 0 ? -1 : 1] as [string, number];
  });
}

/** Stable sort by a MongoDB sort specification. */
export function sortDocs<T>(docs: T[], spec: SortSpec): T[] {
  if (spec.length === 0) return docs;
  const keyed = docs.map((d, i) => ({ d, i, k: spec.map(([p, dir]) => sortValueAt(d, p, dir)) }));
  keyed.sort((x, y) => {
    for (let j = 0; j < spec.length; j++) {
      const c = compareValues(x.k[j], y.k[j]);
      if (c !== 0) return c * spec[j][1];
    }
    return x.i - y.i;
  });
  return keyed.map((x) => x.d);
}
