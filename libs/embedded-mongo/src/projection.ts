import { isPlainObject, type Doc } from './values';

/** Fields an inclusion keeps: `true` keeps the whole field, a nested spec keeps those of its sub-document. */
type Inclusion = Map<string, true | Inclusion>;

/**
 * A projection that only keeps or only drops top-level fields (`{ a: 1, b: 1 }`, `{ raw: 0 }`,
 * with `_id: 0` beside inclusions), or keeps fields by dotted paths (`{ a: 1, 'b.c': 1 }`): what
 * drivers and Mongoose send for almost every read. It is applied by copying fields, in the
 * document's order as mongod does, instead of running it through the general projection engine
 * for each batch. Anything else (dotted exclusions, operators, expressions, other values, paths
 * that collide) returns undefined: the caller uses the general engine. `general` answers the
 * documents a dotted path meets an array in (mongod projects each element there).
 */
export function simpleProjector(
  projection: Doc,
  general?: (docs: Doc[]) => Doc[],
): ((docs: Doc[]) => Doc[]) | undefined {
  const fields = new Set<string>();
  let mode: 'include' | 'exclude' | undefined;
  let withId = true;
  let dotted = false;
  for (const key of Object.keys(projection)) {
    const v = projection[key];
    if (key.length === 0 || key.startsWith('$')) return undefined;
    let include: boolean;
    if (v === 1 || v === true) include = true;
    else if (v === 0 || v === false) include = false;
    else return undefined;
    if (key.includes('.')) {
      if (!include || !general || key.startsWith('_id.')) return undefined;
      dotted = true;
    }
    if (key === '_id') {
      withId = include;
      continue;
    }
    const kind = include ? 'include' : 'exclude';
    if (mode && mode !== kind) return undefined;
    mode = kind;
    fields.add(key);
  }
  if (dotted && general) {
    const spec = inclusionSpec(fields);
    return spec ? (docs) => projectNested(docs, spec, withId, general) : undefined;
  }
  // `{ _id: 1 }` alone keeps only `_id`.
  if (mode === undefined && withId && fields.size === 0 && '_id' in projection) mode = 'include';
  if (mode === 'include') {
    return (docs) =>
      docs.map((d) => {
        const out: Doc = {};
        for (const k of Object.keys(d)) if ((k === '_id' && withId) || fields.has(k)) put(out, k, d[k]);
        return out;
      });
  }
  // Only exclusions (or only `_id`): everything else is kept.
  if (withId) fields.delete('_id');
  else fields.add('_id');
  return (docs) =>
    docs.map((d) => {
      const out: Doc = {};
      for (const k of Object.keys(d)) if (!fields.has(k)) put(out, k, d[k]);
      return out;
    });
}

/** The paths as a tree; undefined when two collide (`a` and `a.b`: mongod refuses it, the general engine answers). */
function inclusionSpec(paths: Iterable<string>): Inclusion | undefined {
  const root: Inclusion = new Map();
  for (const path of paths) {
    const parts = path.split('.');
    if (parts.some((p) => p.length === 0 || p.startsWith('$'))) return undefined;
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const existing = node.get(parts[i]);
      if (i === parts.length - 1) {
        if (existing !== undefined) return undefined;
        node.set(parts[i], true);
      } else if (existing === true) {
        return undefined;
      } else if (existing === undefined) {
        const child: Inclusion = new Map();
        node.set(parts[i], child);
        node = child;
      } else {
        node = existing;
      }
    }
  }
  return root;
}

function projectNested(docs: Doc[], spec: Inclusion, withId: boolean, general: (docs: Doc[]) => Doc[]): Doc[] {
  return docs.map((d) => keep(d, spec, withId) ?? general([d])[0]);
}

/**
 * The fields of `d` the spec keeps, in the document's order; a sub-document kept by path alone may
 * be empty (as mongod). Undefined when a path meets an array (mongod projects each element there:
 * the general engine answers that document).
 */
function keep(d: Doc, spec: Inclusion, withId: boolean | undefined): Doc | undefined {
  const out: Doc = {};
  for (const k of Object.keys(d)) {
    if (withId !== undefined && k === '_id') {
      if (withId) put(out, k, d[k]);
      continue;
    }
    const s = spec.get(k);
    if (s === undefined) continue;
    if (s === true) {
      put(out, k, d[k]);
      continue;
    }
    const v = d[k];
    if (Array.isArray(v)) return undefined;
    if (isPlainObject(v)) {
      const sub = keep(v, s, undefined);
      if (sub === undefined) return undefined;
      put(out, k, sub);
    }
  }
  return out;
}

/** A stored field named `__proto__` stays a field (plain assignment would set the prototype). */
function put(out: Doc, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
