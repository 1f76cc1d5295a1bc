/**
 * Compiles filters with mingo. mingo's public `Query` copies its whole operator table (hundreds of
 * expression operators) for every query it compiles; a filter without `$expr`/`$where`/
 * `$jsonSchema` only needs the query and projection operators, so it is compiled against a small
 * table, which makes compiling a filter (once per command) a few times cheaper.
 */
import { Context, Query } from 'mingo';
import { type Doc, ENGINE_OPTIONS, isPlainObject } from './values';

interface Matcher {
  test(doc: Doc): boolean;
}

type QueryCtor = new (condition: Doc, options: object) => Matcher;

// These subpaths are in mingo's package exports; TypeScript's node10 resolution cannot see them.
/* eslint-disable @typescript-eslint/no-require-imports */
const BaseQuery = (require('mingo/query') as { Query: QueryCtor }).Query;
const QUERY_CONTEXT = Context.init({
  query: require('mingo/operators/query') as Record<string, never>,
  projection: require('mingo/operators/projection') as Record<string, never>,
});
/* eslint-enable @typescript-eslint/no-require-imports */

const NEEDS_EXPRESSIONS = new Set(['$expr', '$where', '$jsonSchema']);

function needsExpressions(v: unknown, depth = 0): boolean {
  if (depth > 100) return true;
  if (Array.isArray(v)) return v.some((x) => needsExpressions(x, depth + 1));
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) {
    if (NEEDS_EXPRESSIONS.has(k)) return true;
    if (needsExpressions(v[k], depth + 1)) return true;
  }
  return false;
}

export function compileQuery(filter: Doc): Matcher {
  if (needsExpressions(filter)) return new Query(filter, ENGINE_OPTIONS);
  return new BaseQuery(filter, { ...ENGINE_OPTIONS, context: QUERY_CONTEXT });
}
