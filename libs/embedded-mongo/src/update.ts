import { ObjectId } from 'bson';
import { Aggregator, update as applyOperators } from 'mingo';
import { CommandError, toCommandError } from './errors';
import { applyFast, canApplyFast, checkConflicts } from './fast-update';
import { cloneValue, compareValues, type Doc, ENGINE_OPTIONS, isPlainObject, setPath } from './values';

const OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
  '$currentDate',
  '$bit',
  '$setOnInsert',
]);

const PIPELINE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

export type UpdateSpec = Doc | Doc[];

/** Checks an update document or pipeline up front, so no document is touched by a bad one. */
export function validateUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    for (const stage of u) {
      if (!isPlainObject(stage) || Object.keys(stage).length !== 1 || !PIPELINE_STAGES.has(Object.keys(stage)[0])) {
        throw new CommandError(
          9,
          'FailedToParse',
          `Unsupported stage in update pipeline: ${isPlainObject(stage) ? Object.keys(stage).join(',') : typeof stage}`,
        );
      }
    }
    return u as Doc[];
  }
  if (!isPlainObject(u))
    throw new CommandError(9, 'FailedToParse', 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length > 0 && ops.length !== keys.length) {
    const plain = keys.find((k) => !k.startsWith('$'));
    throw new CommandError(
      9,
      'FailedToParse',
      `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  for (const op of ops) {
    if (!OPERATORS.has(op)) {
      throw new CommandError(
        9,
        'FailedToParse',
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isPlainObject(u[op])) {
      throw new CommandError(
        9,
        'FailedToParse',
        `Modifiers operate on fields but we found type ${typeof u[op]} instead.`,
      );
    }
  }
  if (ops.length === 0) {
    for (const k of keys) {
      if (k.includes('.'))
        throw new CommandError(52, 'DollarPrefixedFieldName', `The dotted field '${k}' is not valid for storage.`);
    }
  }
  return u;
}

export function isOperatorUpdate(u: UpdateSpec): boolean {
  return !Array.isArray(u) && Object.keys(u).some((k) => k.startsWith('$'));
}

function immutableId(): CommandError {
  return new CommandError(
    66,
    'ImmutableField',
    "Performing an update on the path '_id' would modify the immutable field '_id'",
  );
}

/** Puts `_id` first, as mongod stores it. */
function idFirst(doc: Doc): Doc {
  if (Object.keys(doc)[0] === '_id') return doc;
  const out: Doc = { _id: doc._id };
  for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
  return out;
}

/** `_id` may only be "set" to its current value; that no-op is dropped before the engine runs. */
function guardId(doc: Doc, ops: Doc): void {
  for (const op of Object.keys(ops)) {
    const fields = ops[op] as Doc;
    for (const path of Object.keys(fields)) {
      const renamesTo = op === '$rename' && (fields[path] === '_id' || String(fields[path]).startsWith('_id.'));
      if (path !== '_id' && !path.startsWith('_id.') && !renamesTo) continue;
      if (doc._id === undefined && op === '$set') continue;
      if (op === '$set' && path === '_id' && compareValues(fields[path], doc._id) === 0) {
        delete fields[path];
        continue;
      }
      throw immutableId();
    }
    if (Object.keys(fields).length === 0) delete ops[op];
  }
}

function checkOperatorTypes(doc: Doc, ops: Doc): void {
  for (const op of ['$inc', '$mul']) {
    const fields = ops[op];
    if (!isPlainObject(fields)) continue;
    for (const path of Object.keys(fields)) {
      const arg = fields[path];
      if (typeof arg !== 'number' && !isNumberObject(arg)) {
        throw new CommandError(
          14,
          'TypeMismatch',
          `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${JSON.stringify(arg)}}`,
        );
      }
      let cur: unknown = doc;
      for (const seg of path.split('.')) cur = cur !== null && typeof cur === 'object' ? (cur as Doc)[seg] : undefined;
      if (cur !== undefined && typeof cur !== 'number' && !isNumberObject(cur)) {
        throw new CommandError(
          14,
          'TypeMismatch',
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(doc._id)}} has the field '${path}' of non-numeric type ${typeof cur}`,
        );
      }
    }
  }
}

function isNumberObject(v: unknown): boolean {
  const t = v !== null && typeof v === 'object' ? (v as { _bsontype?: string })._bsontype : undefined;
  return t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128';
}

/**
 * The new version of `doc` after update `u`, or the same object when nothing changed.
 * `insert` marks an upsert's insert (then `$setOnInsert` applies).
 */
export function applyUpdate(
  doc: Doc,
  u: UpdateSpec,
  filter: Doc,
  arrayFilters: Doc[] | undefined,
  insert: boolean,
): Doc {
  let next: Doc;
  try {
    if (Array.isArray(u)) {
      const out = new Aggregator(u, ENGINE_OPTIONS).run([cloneValue(doc)]);
      next = out[0] ?? {};
      if (doc._id !== undefined && !('_id' in next)) next._id = doc._id;
    } else if (isOperatorUpdate(u)) {
      const ops: Doc = {};
      for (const k of Object.keys(u)) {
        if (k === '$setOnInsert') continue;
        ops[k] = isPlainObject(u[k]) ? { ...u[k] } : u[k];
      }
      if (insert && isPlainObject(u.$setOnInsert)) ops.$set = { ...(ops.$set ?? {}), ...u.$setOnInsert };
      for (const k of Object.keys(ops)) if (isPlainObject(ops[k]) && Object.keys(ops[k]).length === 0) delete ops[k];
      guardId(doc, ops);
      if (Object.keys(ops).length === 0) return doc;
      checkConflicts(ops);
      checkOperatorTypes(doc, ops);
      next = cloneValue(doc);
      if (!arrayFilters?.length && canApplyFast(next, ops)) applyFast(next, ops);
      else
        applyOperators(next, ops, arrayFilters, insert ? undefined : filter, {
          cloneMode: 'deep',
          queryOptions: ENGINE_OPTIONS,
        });
    } else {
      if ('_id' in u && doc._id !== undefined && compareValues(u._id, doc._id) !== 0) throw immutableId();
      next = { _id: doc._id, ...cloneValue(u) };
      if (next._id === undefined) delete next._id;
    }
  } catch (e) {
    throw toCommandError(e);
  }
  if (doc._id !== undefined && compareValues(next._id, doc._id) !== 0) throw immutableId();
  if (next._id !== undefined) next = idFirst(next);
  if (!insert && compareValues(doc, next) === 0) return doc;
  return next;
}

/** The seed document of an upsert: the equality conditions of the filter. */
export function upsertSeed(filter: Doc): Doc {
  const seed: Doc = {};
  const visit = (f: Doc): void => {
    for (const k of Object.keys(f)) {
      const v = f[k];
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (k.startsWith('$')) continue;
      if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
        if ('$eq' in v) setPath(seed, k, cloneValue(v.$eq));
        continue;
      }
      setPath(seed, k, cloneValue(v));
    }
  };
  visit(filter);
  return seed;
}

/** The document an upsert inserts. */
export function buildUpsert(filter: Doc, u: UpdateSpec, arrayFilters: Doc[] | undefined): Doc {
  let doc: Doc;
  if (!Array.isArray(u) && !isOperatorUpdate(u)) {
    doc = cloneValue(u);
    const seed = upsertSeed(filter);
    if (doc._id === undefined && seed._id !== undefined) doc._id = seed._id;
  } else {
    doc = applyUpdate(upsertSeed(filter), u, filter, arrayFilters, true);
  }
  if (doc._id === undefined) doc._id = new ObjectId();
  return idFirst(doc);
}
