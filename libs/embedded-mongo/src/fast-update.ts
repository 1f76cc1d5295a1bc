/**
 * Applies the common update operators directly (mingo's updater rebuilds its operator tables on
 * every call, which dominated update cost). Handles $set $unset $inc $mul $min $max $currentDate
 * $push/$addToSet (value or plain $each) $pull (scalar) $pop on paths made of plain objects.
 * Anything else (positional operators, paths through arrays, modifiers like $slice) is left to
 * mingo: `canApplyFast` says which.
 */
import { CommandError } from './errors';
import { cloneValue, compareValues, type Doc, isPlainObject, toNumber } from './values';

const FAST_OPS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pull',
  '$pop',
]);

/** Throws mongod's error when two operators target the same path or a path and its parent. */
export function checkConflicts(ops: Doc): void {
  const paths: string[] = [];
  for (const op of Object.keys(ops)) {
    const fields = ops[op];
    if (!isPlainObject(fields)) continue;
    for (const p of Object.keys(fields)) {
      paths.push(p);
      if (op === '$rename' && typeof fields[p] === 'string') paths.push(fields[p]);
    }
  }
  if (paths.length < 2) return;
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a === b || b.startsWith(a + '.')) {
      throw new CommandError(
        40,
        'ConflictingUpdateOperators',
        `Updating the path '${b}' would create a conflict at '${a}'`,
      );
    }
  }
}

function isScalarArg(v: unknown): boolean {
  return !isPlainObject(v) && !Array.isArray(v) && !(v instanceof RegExp);
}

function simpleEach(v: unknown): boolean {
  return isPlainObject(v) && Object.keys(v).length === 1 && Array.isArray(v.$each);
}

/** Whether every path walks through plain objects only (or missing fields) in `doc`. */
function plainPath(doc: Doc, path: string): boolean {
  if (path.includes('$') || path === '' || path.startsWith('.') || path.endsWith('.') || path.includes('..'))
    return false;
  const segs = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    cur = (cur as Doc)[segs[i]];
    if (cur === undefined) return true;
    if (!isPlainObject(cur)) return false;
  }
  return true;
}

function plainNumberOrMissing(doc: Doc, path: string): boolean {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (cur === undefined) return true;
    cur = (cur as Doc)[seg];
  }
  return cur === undefined || typeof cur === 'number';
}

export function canApplyFast(doc: Doc, ops: Doc): boolean {
  for (const op of Object.keys(ops)) {
    if (!FAST_OPS.has(op)) return false;
    const fields = ops[op] as Doc;
    for (const path of Object.keys(fields)) {
      if (!plainPath(doc, path)) return false;
      const arg = fields[path];
      if ((op === '$inc' || op === '$mul') && (typeof arg !== 'number' || !plainNumberOrMissing(doc, path)))
        return false;
      if (op === '$currentDate' && arg !== true && !(isPlainObject(arg) && arg.$type === 'date')) return false;
      if (
        (op === '$push' || op === '$addToSet') &&
        isPlainObject(arg) &&
        Object.keys(arg).some((k) => k.startsWith('$')) &&
        !simpleEach(arg)
      )
        return false;
      if (op === '$pull' && !isScalarArg(arg)) return false;
      if (op === '$pop' && arg !== 1 && arg !== -1) return false;
    }
  }
  return true;
}

function parentOf(doc: Doc, path: string, create: boolean): { parent: Doc; key: string } | undefined {
  const segs = path.split('.');
  let cur: Doc = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    let next = cur[segs[i]];
    if (next === undefined) {
      if (!create) return undefined;
      next = {};
      cur[segs[i]] = next;
    }
    cur = next as Doc;
  }
  return { parent: cur, key: segs[segs.length - 1] };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  return typeof v === 'object' ? 'object' : typeof v;
}

function arrayAt(parent: Doc, key: string, op: string): unknown[] | undefined {
  const cur = parent[key];
  if (cur === undefined) return undefined;
  if (!Array.isArray(cur)) {
    throw new CommandError(
      2,
      'BadValue',
      `The field '${key}' must be an array but is of type ${typeName(cur)} in document; ${op} requires an array`,
    );
  }
  return cur as unknown[];
}

/** Mutates `doc` (already a private copy). Call only when `canApplyFast` said yes. */
export function applyFast(doc: Doc, ops: Doc): void {
  for (const op of Object.keys(ops)) {
    const fields = ops[op] as Doc;
    for (const path of Object.keys(fields)) {
      const arg = fields[path];
      if (op === '$unset' || op === '$pull' || op === '$pop') {
        const at = parentOf(doc, path, false);
        if (!at || !(at.key in at.parent)) continue;
        if (op === '$unset') {
          delete at.parent[at.key];
          continue;
        }
      }
      const { parent, key } = parentOf(doc, path, true)!;
      const cur = parent[key];
      switch (op) {
        case '$set':
          parent[key] = cloneValue(arg);
          break;
        case '$inc':
          parent[key] = cur === undefined ? arg : toNumber(cur) + (arg as number);
          break;
        case '$mul':
          parent[key] = cur === undefined ? 0 : toNumber(cur) * (arg as number);
          break;
        case '$min':
          if (cur === undefined || compareValues(arg, cur) < 0) parent[key] = cloneValue(arg);
          break;
        case '$max':
          if (cur === undefined || compareValues(arg, cur) > 0) parent[key] = cloneValue(arg);
          break;
        case '$currentDate':
          parent[key] = new Date();
          break;
        case '$push': {
          const items = simpleEach(arg) ? ((arg as Doc).$each as unknown[]) : [arg];
          const arr = arrayAt(parent, key, '$push');
          parent[key] = [...(arr ?? []), ...items.map(cloneValue)];
          break;
        }
        case '$addToSet': {
          const items = simpleEach(arg) ? ((arg as Doc).$each as unknown[]) : [arg];
          const out = [...(arrayAt(parent, key, '$addToSet') ?? [])];
          for (const it of items) if (!out.some((e) => compareValues(e, it) === 0)) out.push(cloneValue(it));
          parent[key] = out;
          break;
        }
        case '$pull': {
          const arr = arrayAt(parent, key, '$pull');
          if (arr) parent[key] = arr.filter((e) => compareValues(e, arg) !== 0);
          break;
        }
        case '$pop': {
          const arr = arrayAt(parent, key, '$pop');
          if (arr && arr.length > 0) parent[key] = arg === 1 ? arr.slice(0, -1) : arr.slice(1);
          break;
        }
        default:
          break;
      }
    }
  }
}
