import { Long, ObjectId } from 'bson';
import { Aggregator, Query } from 'mingo';
import type { Collection } from './collection';
import { backupCmd } from './backup';
import { CursorRegistry } from './cursors';
import { badValue, CommandError, failedToParse, notFound, toCommandError, typeMismatch } from './errors';
import { normaliseIndexSpec } from './indexes';
import { checkCollName, checkDbName, type Store } from './store';
import { applyUpdate, buildUpsert, validateUpdate } from './update';
import {
  cloneValue,
  compareValues,
  type Doc,
  ENGINE_OPTIONS,
  isPlainObject,
  parseSort,
  type SortSpec,
  toNumber,
  valueKey,
} from './values';
import { simpleProjector } from './projection';

export const MAX_BSON_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE = 48_000_000;
export const MAX_WRITE_BATCH = 100_000;
const MAX_WIRE_VERSION = 21;
const VERSION = '7.0.0';

export interface ConnectionInfo {
  id: number;
  remote: string;
}

export interface ServerState {
  store: Store;
  cursors: CursorRegistry;
  startedAt: number;
  connections: () => number;
  totalConnections: () => number;
  /** Refuses writes that add data when the memory budget is spent (see memory-budget.ts). */
  budget?: { admitWrite(): void };
}

/** Commands that can add data; deletes, drops and index changes are always allowed. */
const GROWING_WRITES = new Set(['insert', 'update', 'findAndModify']);

type Handler = (cmd: Doc, db: string, state: ServerState, conn: ConnectionInfo) => Doc;

function asInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = toNumber(v);
  if (Number.isNaN(n) || typeof v === 'boolean') throw typeMismatch(`Field '${name}' should be numeric`);
  return Math.trunc(n);
}

function asDoc(v: unknown, name: string): Doc | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw typeMismatch(`Field '${name}' must be an object`);
  return v;
}

function collName(cmd: Doc, key: string, db: string): string {
  return checkCollName(db, cmd[key]);
}

function projector(projection: Doc | undefined): ((docs: Doc[]) => Doc[]) | undefined {
  if (!projection || Object.keys(projection).length === 0) return undefined;
  // The general engine is made only for the documents a dotted path meets an array in.
  let general: Query | undefined;
  const simple = simpleProjector(projection, (docs) => {
    try {
      return (general ??= new Query({}, ENGINE_OPTIONS)).find(docs, projection).all() as Doc[];
    } catch (e) {
      throw toCommandError(e);
    }
  });
  if (simple) return simple;
  const q = new Query({}, ENGINE_OPTIONS);
  // Validate eagerly so a bad projection fails the command, not a later getMore.
  try {
    q.find([{}], projection).all();
  } catch (e) {
    throw toCommandError(e);
  }
  return (docs) => {
    try {
      return q.find(docs, projection).all() as Doc[];
    } catch (e) {
      throw toCommandError(e);
    }
  };
}

function cursorOptions(cmd: Doc): { batchSize?: number } {
  const c = asDoc(cmd.cursor, 'cursor');
  const batchSize = asInt(c?.batchSize, 'cursor.batchSize');
  if (batchSize !== undefined && batchSize < 0) throw badValue('batchSize must be non-negative');
  return { batchSize };
}

function helloReply(conn: ConnectionInfo, legacyName: boolean): Doc {
  const r: Doc = {
    helloOk: true,
    isWritablePrimary: true,
    maxBsonObjectSize: MAX_BSON_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: MAX_WRITE_BATCH,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: conn.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
  if (legacyName) r.ismaster = true;
  return r;
}

function rejectTransactions(cmd: Doc): void {
  if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
    throw new CommandError(
      20,
      'IllegalOperation',
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
  }
}

// ---------------------------------------------------------------- reads

function findCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'find', db);
  const filter = asDoc(cmd.filter, 'filter') ?? {};
  const sort = parseSort(asDoc(cmd.sort, 'sort'));
  const projection = asDoc(cmd.projection, 'projection');
  const skip = asInt(cmd.skip, 'skip') ?? 0;
  let limit = asInt(cmd.limit, 'limit') ?? 0;
  let batchSize = asInt(cmd.batchSize, 'batchSize');
  let singleBatch = cmd.singleBatch === true;
  if (skip < 0) throw badValue('skip value must be non-negative');
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  if (batchSize !== undefined && batchSize < 0) throw badValue('batchSize value must be non-negative');
  if (cmd.tailable) throw badValue('tailable cursors are not supported by the embedded server');
  const project = projector(projection);
  const coll = s.store.getCollection(db, name);
  let docs: Doc[] = [];
  if (coll) docs = coll.findSorted(filter, sort, skip, limit);
  if (limit > 0 && (batchSize === undefined || batchSize > limit)) batchSize = limit;
  return s.cursors.reply(`${db}.${name}`, docs, batchSize, singleBatch, project);
}

function getMoreCmd(cmd: Doc, db: string, s: ServerState): Doc {
  if (typeof cmd.collection !== 'string') throw typeMismatch("Field 'collection' must be a string");
  return s.cursors.getMore(cmd.getMore, cmd.collection, db, asInt(cmd.batchSize, 'batchSize'));
}

function killCursorsCmd(cmd: Doc, _db: string, s: ServerState): Doc {
  if (!Array.isArray(cmd.cursors)) throw typeMismatch("Field 'cursors' must be an array");
  return s.cursors.kill(cmd.cursors);
}

function countCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'count', db);
  const query = asDoc(cmd.query, 'query') ?? {};
  const skip = Math.max(0, asInt(cmd.skip, 'skip') ?? 0);
  const limit = Math.abs(asInt(cmd.limit, 'limit') ?? 0);
  const coll = s.store.getCollection(db, name);
  const n = coll ? coll.count(query, skip, limit) : 0;
  return { n, ok: 1 };
}

function distinctValues(doc: unknown, path: string[], i: number, out: unknown[]): void {
  if (i === path.length) {
    if (Array.isArray(doc)) out.push(...(doc as unknown[]));
    else if (doc !== undefined) out.push(doc);
    return;
  }
  if (doc === null || typeof doc !== 'object') return;
  if (Array.isArray(doc)) {
    for (const e of doc) distinctValues(e, path, i, out);
    return;
  }
  const d = doc as Doc;
  if (path[i] in d) distinctValues(d[path[i]], path, i + 1, out);
}

function distinctCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'distinct', db);
  if (typeof cmd.key !== 'string' || cmd.key.length === 0) throw failedToParse("'key' must be a non-empty string");
  const query = asDoc(cmd.query, 'query') ?? {};
  const coll = s.store.getCollection(db, name);
  const seen = new Map<string, unknown>();
  const fromIndex = coll?.distinctFromIndex(cmd.key, query);
  if (fromIndex) {
    for (const v of fromIndex) seen.set(valueKey(v), v);
  } else if (coll) {
    const path = cmd.key.split('.');
    for (const d of coll.matches(query)) {
      const vals: unknown[] = [];
      distinctValues(d, path, 0, vals);
      for (const v of vals) {
        const k = valueKey(v);
        if (!seen.has(k)) seen.set(k, v);
      }
    }
  }
  const values = [...seen.values()].sort(compareValues);
  return { values, ok: 1 };
}

const UNSUPPORTED_STAGES = new Set([
  '$out',
  '$merge',
  '$geoNear',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$changeStream',
]);
const KNOWN_STAGES = new Set([
  '$addFields',
  '$bucket',
  '$bucketAuto',
  '$count',
  '$densify',
  '$facet',
  '$fill',
  '$graphLookup',
  '$group',
  '$limit',
  '$lookup',
  '$match',
  '$project',
  '$redact',
  '$replaceRoot',
  '$replaceWith',
  '$sample',
  '$set',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unset',
  '$unwind',
]);

function checkPipeline(pipeline: unknown): Doc[] {
  if (!Array.isArray(pipeline)) throw typeMismatch("'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) throw typeMismatch("Each element of the 'pipeline' array must be an object");
    const keys = Object.keys(stage);
    if (keys.length !== 1) {
      throw new CommandError(
        40323,
        'Location40323',
        'A pipeline stage specification object must contain exactly one field.',
      );
    }
    const name = keys[0];
    if (UNSUPPORTED_STAGES.has(name)) throw badValue(`${name} is not supported by the embedded server`);
    if (!KNOWN_STAGES.has(name))
      throw new CommandError(40324, 'Location40324', `Unrecognized pipeline stage name: '${name}'`);
    if (name === '$facet' && isPlainObject(stage.$facet)) {
      for (const sub of Object.values(stage.$facet)) checkPipeline(sub);
    }
  }
  return pipeline as Doc[];
}

// Stages that build new documents without writing into their input's nested objects.
const NON_MUTATING_STAGES = new Set([
  '$match',
  '$group',
  '$sort',
  '$skip',
  '$limit',
  '$count',
  '$sortByCount',
  '$project',
  '$bucket',
  '$bucketAuto',
  '$sample',
]);

function pipelineMayMutate(pipeline: Doc[]): boolean {
  return pipeline.some((stage) => {
    const name = Object.keys(stage)[0];
    if (name === '$facet' && isPlainObject(stage.$facet))
      return Object.values(stage.$facet).some((p) => pipelineMayMutate(p as Doc[]));
    return !NON_MUTATING_STAGES.has(name);
  });
}

/**
 * `[$skip] [$limit] { $group: { _id: <constant>, <field>: { $sum: 1 } } }`: a plain count, the
 * shape drivers use for countDocuments.
 */
function countStage(rest: Doc[]): { skip: number; limit: number; id: unknown; field: string } | undefined {
  let j = 0;
  let skip = 0;
  let limit = 0;
  if (j < rest.length && Object.keys(rest[j]).length === 1 && '$skip' in rest[j]) {
    const v = rest[j].$skip;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return undefined;
    skip = v;
    j++;
  }
  if (j < rest.length && Object.keys(rest[j]).length === 1 && '$limit' in rest[j]) {
    const v = rest[j].$limit;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return undefined;
    limit = v;
    j++;
  }
  if (j !== rest.length - 1 || Object.keys(rest[j]).length !== 1) return undefined;
  const g = rest[j].$group;
  if (!isPlainObject(g)) return undefined;
  const keys = Object.keys(g);
  if (keys.length !== 2 || keys[0] !== '_id') return undefined;
  const id = g._id;
  if (!(id === null || typeof id === 'number' || (typeof id === 'string' && !id.startsWith('$')))) return undefined;
  const acc = g[keys[1]];
  if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || acc.$sum !== 1) return undefined;
  return { skip, limit, id, field: keys[1] };
}

function aggregateCmd(cmd: Doc, db: string, s: ServerState): Doc {
  if (cmd.explain) throw badValue('explain is not supported by the embedded server');
  if (cmd.cursor === undefined) {
    throw new CommandError(
      9,
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const { batchSize } = cursorOptions(cmd);
  const pipeline = checkPipeline(cmd.pipeline);
  if (typeof cmd.aggregate !== 'string')
    throw badValue('aggregate with no collection is not supported by the embedded server');
  const name = collName(cmd, 'aggregate', db);
  const coll = s.store.getCollection(db, name);
  let i = 0;
  let filter: Doc = {};
  while (i < pipeline.length && '$match' in pipeline[i]) {
    const m = pipeline[i].$match;
    if (!isPlainObject(m)) throw badValue('the match filter must be an expression in an object');
    filter = Object.keys(filter).length === 0 ? m : { $and: [filter, m] };
    i++;
  }
  const counted = countStage(pipeline.slice(i));
  if (counted) {
    // A count (what drivers send for countDocuments) is read from an index when one answers it.
    const n = coll ? coll.count(filter, counted.skip, counted.limit) : 0;
    const out = n > 0 ? [{ _id: counted.id, [counted.field]: n }] : [];
    return s.cursors.reply(`${db}.${name}`, out, batchSize, false);
  }
  // A leading $match/$sort/$skip/$limit runs on the collection itself, so indexes serve it.
  let sort: SortSpec = [];
  let skip = 0;
  let limit = 0;
  if (i < pipeline.length && '$sort' in pipeline[i]) {
    if (!isPlainObject(pipeline[i].$sort)) throw badValue('the $sort key specification must be an object');
    sort = parseSort(pipeline[i].$sort);
    i++;
    if (i < pipeline.length && '$skip' in pipeline[i]) {
      skip = asInt(pipeline[i].$skip, '$skip') ?? 0;
      if (skip < 0) throw badValue('invalid argument to $skip stage: Expected a non-negative number');
      i++;
    }
    if (i < pipeline.length && '$limit' in pipeline[i]) {
      limit = asInt(pipeline[i].$limit, '$limit') ?? 0;
      if (limit <= 0) throw badValue('the limit must be positive');
      i++;
    }
  }
  let out = coll ? coll.findSorted(filter, sort, skip, limit) : [];
  const rest = pipeline.slice(i);
  if (rest.length > 0) {
    const input = pipelineMayMutate(rest) ? out.map((d) => cloneValue(d)) : out;
    try {
      out = new Aggregator(rest, {
        ...ENGINE_OPTIONS,
        ...(isPlainObject(cmd.let) ? { variables: cmd.let } : {}),
        collectionResolver: (other: string) => {
          const c = s.store.getCollection(db, other);
          return c ? [...c.allDocs()] : [];
        },
      }).run<Doc>(input);
    } catch (e) {
      throw toCommandError(e);
    }
  }
  return s.cursors.reply(`${db}.${name}`, out, batchSize, false);
}

// ---------------------------------------------------------------- writes

function ordered(cmd: Doc): boolean {
  return cmd.ordered !== false;
}

function batch(cmd: Doc, field: string): unknown[] {
  const arr = cmd[field];
  if (!Array.isArray(arr)) throw typeMismatch(`Field '${field}' must be an array`);
  if (arr.length === 0)
    throw new CommandError(10413, 'InvalidLength', 'Write batch sizes must be between 1 and 100000. Got 0 operations.');
  if (arr.length > MAX_WRITE_BATCH) {
    throw new CommandError(
      10413,
      'InvalidLength',
      `Write batch sizes must be between 1 and 100000. Got ${arr.length} operations.`,
    );
  }
  return arr as unknown[];
}

function writeReply(n: number, errors: Doc[], extra: Doc = {}): Doc {
  const r: Doc = { n, ...extra };
  if (errors.length > 0) r.writeErrors = errors;
  r.ok = 1;
  return r;
}

function insertCmd(cmd: Doc, db: string, s: ServerState): Doc {
  rejectTransactions(cmd);
  const name = collName(cmd, 'insert', db);
  const docs = batch(cmd, 'documents');
  const coll = s.store.ensureCollection(db, name);
  const errors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    try {
      const raw = docs[i];
      if (!isPlainObject(raw)) throw typeMismatch('document to insert must be an object');
      const doc: Doc =
        raw._id === undefined
          ? { _id: new ObjectId(), ...raw }
          : Object.keys(raw)[0] === '_id'
            ? raw
            : { _id: raw._id, ...raw };
      coll.insert(doc);
      n++;
    } catch (e) {
      errors.push(toCommandError(e).toWriteError(i));
      if (ordered(cmd)) break;
    }
  }
  return writeReply(n, errors);
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
}

function updateOne(
  coll: Collection,
  q: Doc,
  u: unknown,
  opts: { multi: boolean; upsert: boolean; arrayFilters?: Doc[]; sort?: Doc },
): UpdateOutcome {
  const spec = validateUpdate(u);
  if (opts.multi && !Array.isArray(spec) && !Object.keys(spec).some((k) => k.startsWith('$'))) {
    throw failedToParse('multi update is not supported for replacement-style update');
  }
  let targets: Doc[];
  if (opts.multi) targets = coll.find(q);
  else targets = coll.findSorted(q, parseSort(opts.sort), 0, 1);
  if (targets.length === 0) {
    if (!opts.upsert) return { matched: 0, modified: 0 };
    const doc = buildUpsert(q, spec, opts.arrayFilters);
    coll.insert(doc);
    return { matched: 0, modified: 0, upsertedId: doc._id };
  }
  let modified = 0;
  for (const old of targets) {
    const next = applyUpdate(old, spec, q, opts.arrayFilters, false);
    if (next !== old) {
      coll.replace(old, next);
      modified++;
    }
  }
  return { matched: targets.length, modified };
}

function updateCmd(cmd: Doc, db: string, s: ServerState): Doc {
  rejectTransactions(cmd);
  const name = collName(cmd, 'update', db);
  const stmts = batch(cmd, 'updates');
  const coll = s.store.ensureCollection(db, name);
  const errors: Doc[] = [];
  const upserted: Doc[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < stmts.length; i++) {
    try {
      const st = stmts[i];
      if (!isPlainObject(st)) throw typeMismatch('update statement must be an object');
      const q = asDoc(st.q, 'q') ?? {};
      const arrayFilters = st.arrayFilters === undefined ? undefined : (st.arrayFilters as Doc[]);
      const r = updateOne(coll, q, st.u, {
        multi: st.multi === true,
        upsert: st.upsert === true,
        arrayFilters,
        sort: asDoc(st.sort, 'sort'),
      });
      if (r.upsertedId !== undefined) {
        upserted.push({ index: i, _id: r.upsertedId });
        n++;
      } else {
        n += r.matched;
        nModified += r.modified;
      }
    } catch (e) {
      errors.push(toCommandError(e).toWriteError(i));
      if (ordered(cmd)) break;
    }
  }
  const extra: Doc = { nModified };
  if (upserted.length > 0) extra.upserted = upserted;
  return writeReply(n, errors, extra);
}

function deleteCmd(cmd: Doc, db: string, s: ServerState): Doc {
  rejectTransactions(cmd);
  const name = collName(cmd, 'delete', db);
  const stmts = batch(cmd, 'deletes');
  const coll = s.store.getCollection(db, name);
  const errors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < stmts.length; i++) {
    try {
      const st = stmts[i];
      if (!isPlainObject(st)) throw typeMismatch('delete statement must be an object');
      const q = asDoc(st.q, 'q') ?? {};
      const limit = asInt(st.limit, 'limit') ?? 0;
      if (limit !== 0 && limit !== 1) throw badValue('The limit field in delete objects must be 0 or 1');
      if (!coll) continue;
      const targets: Doc[] = [];
      for (const d of coll.matches(q)) {
        targets.push(d);
        if (limit === 1) break;
      }
      for (const d of targets) coll.remove(d);
      n += targets.length;
    } catch (e) {
      errors.push(toCommandError(e).toWriteError(i));
      if (ordered(cmd)) break;
    }
  }
  return writeReply(n, errors);
}

function findAndModifyCmd(cmd: Doc, db: string, s: ServerState): Doc {
  rejectTransactions(cmd);
  const key = 'findAndModify' in cmd ? 'findAndModify' : 'findandmodify';
  const name = collName(cmd, key, db);
  const query = asDoc(cmd.query, 'query') ?? {};
  const sort = parseSort(asDoc(cmd.sort, 'sort'));
  const remove = cmd.remove === true;
  const hasUpdate = cmd.update !== undefined;
  const returnNew = cmd.new === true;
  const upsert = cmd.upsert === true;
  const project = projector(asDoc(cmd.fields, 'fields'));
  const arrayFilters = cmd.arrayFilters === undefined ? undefined : (cmd.arrayFilters as Doc[]);
  if (remove && hasUpdate) throw failedToParse('Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate) throw failedToParse('Either an update or remove=true must be specified');
  if (remove && (upsert || returnNew))
    throw failedToParse('Cannot specify both upsert=true and remove=true or new=true and remove=true');
  const spec = hasUpdate ? validateUpdate(cmd.update) : undefined;
  const coll = remove ? s.store.getCollection(db, name) : s.store.ensureCollection(db, name);
  let target: Doc | undefined;
  if (coll) target = coll.findSorted(query, sort, 0, 1)[0];
  const out = (d: Doc | undefined): Doc | null => (d ? (project ? project([d])[0] : d) : null);
  if (remove) {
    if (!target || !coll) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    coll.remove(target);
    return { lastErrorObject: { n: 1 }, value: out(target), ok: 1 };
  }
  if (!coll || !spec) throw badValue('unreachable');
  if (!target) {
    if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = buildUpsert(query, spec, arrayFilters);
    coll.insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: returnNew ? out(doc) : null,
      ok: 1,
    };
  }
  const next = applyUpdate(target, spec, query, arrayFilters, false);
  if (next !== target) coll.replace(target, next);
  return { lastErrorObject: { n: 1, updatedExisting: true }, value: out(returnNew ? next : target), ok: 1 };
}

// ---------------------------------------------------------------- catalog

function createCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'create', db);
  if (cmd.viewOn !== undefined) throw badValue('views are not supported by the embedded server');
  if (cmd.capped) throw badValue('capped collections are not supported by the embedded server');
  if (cmd.timeseries !== undefined) throw badValue('time series collections are not supported by the embedded server');
  for (const opt of [
    'validator',
    'clusteredIndex',
    'expireAfterSeconds',
    'changeStreamPreAndPostImages',
    'encryptedFields',
  ]) {
    if (cmd[opt] !== undefined)
      throw badValue(`the '${opt}' collection option is not supported by the embedded server`);
  }
  const existing = s.store.getCollection(db, name);
  if (existing) {
    throw new CommandError(48, 'NamespaceExists', `Collection ${db}.${name} already exists.`);
  }
  s.store.ensureCollection(db, name);
  return { ok: 1 };
}

function dropCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'drop', db);
  const coll = s.store.getCollection(db, name);
  const nIndexesWas = coll ? coll.indexes.length : 0;
  if (!coll) return { ok: 1 };
  s.store.dropCollection(db, name);
  return { nIndexesWas, ns: `${db}.${name}`, ok: 1 };
}

function dropDatabaseCmd(_cmd: Doc, db: string, s: ServerState): Doc {
  s.store.dropDatabase(db);
  return { ok: 1 };
}

function collectionInfo(c: Collection): Doc {
  return {
    name: c.name,
    type: 'collection',
    options: c.options,
    info: { readOnly: false, uuid: c.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  };
}

function listCollectionsCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const filter = asDoc(cmd.filter, 'filter') ?? {};
  const { batchSize } = cursorOptions(cmd);
  const colls = [...(s.store.dbs.get(db)?.values() ?? [])];
  let infos = colls.map(collectionInfo);
  if (Object.keys(filter).length > 0) {
    try {
      const q = new Query(filter, ENGINE_OPTIONS);
      infos = infos.filter((i) => q.test(i));
    } catch (e) {
      throw toCommandError(e);
    }
  }
  if (cmd.nameOnly === true) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  return s.cursors.reply(`${db}.$cmd.listCollections`, infos, batchSize, false);
}

function listDatabasesCmd(cmd: Doc, _db: string, s: ServerState): Doc {
  const databases = [...s.store.dbs.entries()].map(([name, colls]) => {
    let docs = 0;
    for (const c of colls.values()) docs += c.size;
    return { name, sizeOnDisk: docs * 256, empty: docs === 0 };
  });
  if (cmd.nameOnly === true) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  const totalSize = databases.reduce((a, d) => a + d.sizeOnDisk, 0);
  return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
}

function createIndexesCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'createIndexes', db);
  const list = cmd.indexes;
  if (!Array.isArray(list) || list.length === 0)
    throw failedToParse("Must specify at least one index to create in 'indexes'");
  const specs = list.map(normaliseIndexSpec);
  const created = !s.store.getCollection(db, name);
  const coll = s.store.ensureCollection(db, name);
  const before = coll.indexes.length;
  let made = 0;
  for (const spec of specs) if (coll.createIndex(spec)) made++;
  const r: Doc = {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length,
    createdCollectionAutomatically: created,
  };
  if (made === 0) r.note = 'all indexes already exist';
  r.ok = 1;
  return r;
}

function listIndexesCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const name = collName(cmd, 'listIndexes', db);
  const { batchSize } = cursorOptions(cmd);
  const coll = s.store.getCollection(db, name);
  if (!coll) throw notFound(`${db}.${name}`);
  const specs = coll.indexes.map((i) => ({ ...i.spec }));
  return s.cursors.reply(`${db}.${name}`, specs, batchSize, false);
}

function dropIndexesCmd(cmd: Doc, db: string, s: ServerState): Doc {
  const key = 'dropIndexes' in cmd ? 'dropIndexes' : 'deleteIndexes';
  const name = collName(cmd, key, db);
  const coll = s.store.getCollection(db, name);
  if (!coll) throw notFound(`${db}.${name}`);
  const nIndexesWas = coll.indexes.length;
  const which = cmd.index;
  let names: string[];
  if (which === '*') names = coll.indexes.slice(1).map((i) => i.name);
  else if (typeof which === 'string') names = [which];
  else if (Array.isArray(which)) names = which.map(String);
  else if (isPlainObject(which)) {
    const found = coll.indexes.find((i) => compareValues(i.spec.key, which) === 0);
    if (!found) throw new CommandError(27, 'IndexNotFound', `can't find index with key: ${JSON.stringify(which)}`);
    names = [found.name];
  } else throw typeMismatch("Field 'index' must be a string, an array of strings or an object");
  for (const n of names) {
    if (n === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
    if (!coll.findIndex(n)) throw new CommandError(27, 'IndexNotFound', `index not found with name [${n}]`);
  }
  for (const n of names) coll.dropIndex(n);
  return { nIndexesWas, ok: 1 };
}

function renameCollectionCmd(cmd: Doc, db: string, s: ServerState): Doc {
  if (db !== 'admin')
    throw new CommandError(13, 'Unauthorized', 'renameCollection may only be run against the admin database.');
  const from = String(cmd.renameCollection);
  const to = String(cmd.to);
  const split = (ns: string): [string, string] => {
    const i = ns.indexOf('.');
    if (i <= 0) throw badValue(`Invalid namespace: ${ns}`);
    return [checkDbName(ns.slice(0, i)), checkCollName(ns.slice(0, i), ns.slice(i + 1))];
  };
  const [fdb, fc] = split(from);
  const [tdb, tc] = split(to);
  const src = s.store.getCollection(fdb, fc);
  if (!src) throw new CommandError(26, 'NamespaceNotFound', 'Source collection does not exist');
  if (s.store.getCollection(tdb, tc)) {
    if (cmd.dropTarget !== true) throw new CommandError(48, 'NamespaceExists', 'target namespace exists');
    s.store.dropCollection(tdb, tc);
  }
  const dst = s.store.ensureCollection(tdb, tc, src.options);
  for (const idx of src.indexes.slice(1)) dst.createIndex({ ...idx.spec });
  for (const d of src.allDocs()) dst.insert(d);
  s.store.dropCollection(fdb, fc);
  return { ok: 1 };
}

// ---------------------------------------------------------------- server info

function buildInfo(): Doc {
  return {
    version: VERSION,
    gitVersion: 'embedded',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_SIZE,
    storageEngines: ['embedded'],
    modules: [],
    ok: 1,
  };
}

function serverStatus(_cmd: Doc, _db: string, s: ServerState): Doc {
  const uptimeMillis = Date.now() - s.startedAt;
  return {
    host: '127.0.0.1',
    version: VERSION,
    process: 'embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    localTime: new Date(),
    connections: { current: s.connections(), available: 10000 - s.connections(), totalCreated: s.totalConnections() },
    metrics: { cursor: { open: { total: s.cursors.size } } },
    ok: 1,
  };
}

function getParameter(cmd: Doc): Doc {
  const r: Doc = {};
  const all = cmd.getParameter === '*' || (isPlainObject(cmd.getParameter) && cmd.getParameter.allParameters === true);
  if (all || cmd.featureCompatibilityVersion !== undefined) r.featureCompatibilityVersion = { version: '7.0' };
  if (Object.keys(r).length === 0) throw new CommandError(72, 'InvalidOptions', 'no option found to get');
  r.ok = 1;
  return r;
}

function transactionsUnsupported(): Doc {
  throw new CommandError(
    20,
    'IllegalOperation',
    'Transactions are not supported by the embedded server (it is a standalone)',
  );
}

const HANDLERS: Record<string, Handler> = {
  hello: (_c, _d, _s, conn) => helloReply(conn, false),
  isMaster: (_c, _d, _s, conn) => helloReply(conn, true),
  ping: () => ({ ok: 1 }),
  buildInfo,
  getParameter: (c) => getParameter(c),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => badValueThrow('sessions are implicit on the embedded server'),
  serverStatus,
  listDatabases: listDatabasesCmd,
  whatsmyuri: (_c, _d, _s, conn) => ({ you: conn.remote, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  hostInfo: () => ({
    system: { currentTime: new Date(), hostname: '127.0.0.1' },
    os: { type: process.platform },
    ok: 1,
  }),
  insert: insertCmd,
  find: findCmd,
  getMore: getMoreCmd,
  killCursors: killCursorsCmd,
  update: updateCmd,
  delete: deleteCmd,
  findAndModify: findAndModifyCmd,
  aggregate: aggregateCmd,
  count: countCmd,
  distinct: distinctCmd,
  create: createCmd,
  drop: dropCmd,
  dropDatabase: dropDatabaseCmd,
  listCollections: listCollectionsCmd,
  createIndexes: createIndexesCmd,
  listIndexes: listIndexesCmd,
  dropIndexes: dropIndexesCmd,
  renameCollection: renameCollectionCmd,
  embeddedBackup: backupCmd,
  abortTransaction: transactionsUnsupported,
  commitTransaction: transactionsUnsupported,
};

function badValueThrow(msg: string): Doc {
  throw badValue(msg);
}

const ALIASES: Record<string, string> = {
  ismaster: 'isMaster',
  findandmodify: 'findAndModify',
  buildinfo: 'buildInfo',
  deleteIndexes: 'dropIndexes',
};

/** Runs one command and returns its reply document; never throws. */
export function runCommand(cmd: Doc, dbName: unknown, state: ServerState, conn: ConnectionInfo): Doc {
  try {
    const first = Object.keys(cmd)[0];
    if (first === undefined) throw new CommandError(59, 'CommandNotFound', 'no such command: empty command document');
    const name = ALIASES[first] ?? first;
    const handler = Object.prototype.hasOwnProperty.call(HANDLERS, name) ? HANDLERS[name] : undefined;
    if (!handler) throw new CommandError(59, 'CommandNotFound', `no such command: '${first}'`);
    const db = checkDbName(dbName);
    if (name !== 'hello' && name !== 'isMaster') rejectTransactions(cmd);
    if (state.budget && GROWING_WRITES.has(name) && cmd.remove !== true) state.budget.admitWrite();
    return handler(cmd, db, state, conn);
  } catch (e) {
    return toCommandError(e).toReply();
  }
}
