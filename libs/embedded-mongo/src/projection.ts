import type { Doc } from './values';

/**
 * A projection that only keeps or only drops top-level fields (`{ a: 1, b: 1 }`, `{ raw: 0 }`,
 * with `_id: 0` beside inclusions): what drivers and Mongoose send for almost every read. It is
 * applied by copying fields, in the document's order as mongod does, instead of running it through
 * the general projection engine for each batch. Anything else (dotted paths, operators,
 * expressions, other values) returns undefined: the caller uses the general engine.
 */
export function simpleProjector(projection: Doc): ((docs: Doc[]) => Doc[]) | undefined {
  const fields = new Set<string>();
  let mode: 'include' | 'exclude' | undefined;
  let withId = true;
  for (const key of Object.keys(projection)) {
    const v = projection[key];
    if (key.length === 0 || key.includes('.') || key.startsWith('$')) return undefined;
    let include: boolean;
    if (v === 1 || v === true) include = true;
    else if (v === 0 || v === false) include = false;
    else return undefined;
    if (key === '_id') {
      withId = include;
      continue;
    }
    const kind = include ? 'include' : 'exclude';
    if (mode && mode !== kind) return undefined;
    mode = kind;
    fields.add(key);
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

/** A stored field named `__proto__` stays a field (plain assignment would set the prototype). */
function put(out: Doc, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
