/**
 * Copies the embedded database into MongoDB, so a site that outgrows one process can move:
 *   npm run db:export -- --to mongodb://host:27017/timmy [--data <dir> | --from <uri>] [--db <name>]
 * Every collection with its indexes; resumable (each collection continues after the last `_id`
 * already in the target, in `_id` order); verified by counting both sides at the end.
 */
import { type Document, MongoClient } from 'mongodb';
import { defaultDataDir } from '../cli';
import { defaultDbName, openSource, parseFlags, runTool } from './source';

const USAGE = 'usage: db:export --to <mongodb uri> [--data <dir> | --from <uri>] [--db <source db>] [--batch <n>]';

export interface CollectionReport {
  name: string;
  source: number;
  target: number;
  copied: number;
  /** Documents already in the target when this run started (resumed from there). */
  resumedAfter: number;
  indexes: string[];
}

export interface ExportOptions {
  sourceUri: string;
  sourceDb: string;
  targetUri: string;
  /** Defaults to the database named in targetUri, else sourceDb. */
  targetDb?: string;
  batchSize?: number;
  log?: (msg: string) => void;
}

/** Index options that carry over (the rest, like `v` and `ns`, belong to the server). */
const INDEX_OPTIONS = [
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'collation',
  'hidden',
  'weights',
  'default_language',
] as const;

export async function exportDatabase(opts: ExportOptions): Promise<CollectionReport[]> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const batchSize = opts.batchSize ?? 1000;
  const src = await MongoClient.connect(opts.sourceUri, { retryWrites: false });
  const dst = await MongoClient.connect(opts.targetUri);
  try {
    const sdb = src.db(opts.sourceDb);
    const tdb = dst.db(opts.targetDb ?? (dst.options.dbName !== 'test' ? dst.options.dbName : opts.sourceDb));
    const reports: CollectionReport[] = [];
    const colls = (await sdb.listCollections({}, { nameOnly: true }).toArray())
      .map((c) => c.name)
      .filter((n) => !n.startsWith('system.'))
      .sort();
    for (const name of colls) {
      const sc = sdb.collection(name);
      const tc = tdb.collection(name);
      const existing = await tdb.listCollections({ name }, { nameOnly: true }).toArray();
      if (existing.length === 0) await tdb.createCollection(name);
      // Indexes first: a unique index then refuses a duplicate instead of the copy hiding it.
      const indexes: string[] = [];
      for (const spec of (await sc.listIndexes().toArray()) as Document[]) {
        if (spec.name === '_id_') continue;
        const options: Document = { name: spec.name as string };
        for (const k of INDEX_OPTIONS) if (spec[k] !== undefined) options[k] = spec[k] as unknown;
        await tc.createIndex(spec.key as Document, options);
        indexes.push(spec.name as string);
      }
      const last = await tc
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: -1 })
        .limit(1)
        .next();
      const resumedAfter = last ? await tc.countDocuments() : 0;
      const cursor = sc
        .find(last ? { _id: { $gt: last._id } } : {})
        .sort({ _id: 1 })
        .batchSize(batchSize);
      let copied = 0;
      let batch: Document[] = [];
      for await (const doc of cursor) {
        batch.push(doc);
        if (batch.length >= batchSize) {
          await tc.insertMany(batch, { ordered: true });
          copied += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) {
        await tc.insertMany(batch, { ordered: true });
        copied += batch.length;
      }
      const [source, target] = await Promise.all([sc.countDocuments(), tc.countDocuments()]);
      reports.push({ name, source, target, copied, resumedAfter, indexes });
      log(
        `${name}: ${copied} copied${resumedAfter > 0 ? ` (resumed after ${resumedAfter} already there)` : ''}, ` +
          `${source} in source, ${target} in target, ${indexes.length} indexes`,
      );
    }
    return reports;
  } finally {
    await Promise.all([src.close(), dst.close()]);
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(
    process.argv.slice(2),
    { '--to': 'value', '--from': 'value', '--data': 'value', '--db': 'value', '--batch': 'value' },
    USAGE,
  );
  const to = flags.get('--to');
  if (!to || !/^mongodb(\+srv)?:\/\//.test(to)) throw new Error(`--to <mongodb uri> is required\n${USAGE}`);
  const batch = Number(flags.get('--batch') ?? 1000);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new Error(`invalid --batch\n${USAGE}`);
  const source = await openSource({ from: flags.get('--from'), dataDir: flags.get('--data') ?? defaultDataDir() });
  try {
    const sourceDb = flags.get('--db') ?? defaultDbName();
    console.log(`db:export: copying database ${sourceDb} of ${source.describe}`);
    const reports = await exportDatabase({ sourceUri: source.uri, sourceDb, targetUri: to, batchSize: batch });
    const bad = reports.filter((r) => r.source !== r.target);
    if (reports.length === 0) throw new Error(`database ${sourceDb} has no collections: nothing to export (--db?)`);
    if (bad.length > 0) {
      throw new Error(
        `counts differ for ${bad.map((r) => `${r.name} (${r.source} in source, ${r.target} in target)`).join(', ')}: ` +
          'was the app still writing? Stop it and run db:export again (it resumes)',
      );
    }
    const total = reports.reduce((n, r) => n + r.target, 0);
    console.log(
      `db:export: done, ${reports.length} collections and ${total} documents verified by count; set MONGODB_URI to the target and start the app`,
    );
  } finally {
    await source.close();
  }
}

if (require.main === module) runTool('db:export', main);
